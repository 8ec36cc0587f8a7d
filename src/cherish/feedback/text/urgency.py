"""Urgency signals in a comment: what tells a recovery team to act today.

- ``churn``: the customer says they will leave ("cancel", "switching to", "going elsewhere");
- ``public``: they will take it public ("post a review", "tell everyone", "social media");
- ``legal or safety``: a lawyer, a claim, an injury, an allergy, something unsafe;
- ``repeated contact``: they have asked before ("third time", "called three times", "still no answer").
"""

from __future__ import annotations

import re

SIGNALS = ("churn", "public", "legal or safety", "repeated contact")

_PATTERNS = {
    "churn": (
        r"cancel(l?ing|l?ed)?( my)?( order| subscription| account| membership)?", r"switch(ing)? to",
        r"(go|going|gone|move|moving|take|taking) (my business )?elsewhere", r"never (order|buy|shop|come)\w* again",
        r"(won't|will not|not) (be )?(order|buy|shop|com)\w* (here |from you )?again", r"close my account",
        r"last time i", r"lost a customer", r"(thinking|think) of (going|leaving|switching)", r"unsubscrib\w*",
        r"not sure i will (order|come|buy|shop) again", r"done with (you|this)"),
    "public": (
        r"post(ing)? (a |an )?(\w+ )?review", r"(leave|leaving|write|writing) (a |an )?(\w+ )?review",
        r"tell (everyone|all my friends|people)", r"social media", r"twitter|instagram|facebook|tiktok|trustpilot",
        r"(go|going) public", r"the press", r"journalist", r"warn (others|everyone|people)"),
    "legal or safety": (
        r"lawyers?", r"solicitors?", r"legal( action)?", r"sue|suing", r"court", r"trading standards",
        r"ombudsman", r"chargeback", r"fraud", r"unsafe", r"danger(ous)?", r"injur(y|ed|ies)", r"hurt",
        r"allerg(y|ic|ies)", r"food poisoning", r"(made|got|felt|was) (me |us |him |her )?(really |very )?sick(?! of)",
        r"burn(ed|t) (my|me|his|her|their)", r"caught fire", r"glass in", r"hospital"),
    "repeated contact": (
        r"(second|third|fourth|fifth|\d+(st|nd|rd|th)) time", r"(called|rang|phoned|emailed|written|wrote|asked|"
        r"contacted|chased)( you)? (\w+ )?(twice|three times|four times|again|several times|many times|\d+ times)",
        r"still (no|waiting|have no|haven't)", r"(no|never) (answer|reply|response)", r"again and again",
        r"keep (calling|asking|chasing)", r"how many times", r"(twice|three times) (to|and) "),
}
_COMPILED = {signal: re.compile(r"\b(" + "|".join(words) + r")\b") for signal, words in _PATTERNS.items()}


def signals_in(text: str) -> list[str]:
    """The urgency signals a (lower-cased) text carries, in ``SIGNALS``' order."""
    return [signal for signal, pattern in _COMPILED.items() if pattern.search(text)]
