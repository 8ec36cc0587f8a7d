"""Survey comments for the demo: varied sentences whose sentiment follows the score and that name aspects of the
customer-experience taxonomy that text analytics uses (`cherish.feedback.text.aspects`). Each comment keeps its
ground truth, the aspects and sentiment it was written with, so that a test can score what text analytics finds."""

from __future__ import annotations

import random
from dataclasses import dataclass

# aspect: (positive sentences, negative sentences); a sentence that speaks of more than one aspect says which
Sentence = tuple[str, tuple[str, ...]]
ASPECTS: dict[str, tuple[tuple[Sentence, ...], tuple[Sentence, ...]]] = {
    "delivery": (
        (("The parcel arrived a day early and well packed.", ()), ("Delivery was quick, no complaints there.", ()),
         ("Shipping was fast and the tracking updates were spot on.", ("communication",))),
        (("My order arrived almost a week after the promised date.", ()),
         ("Delivery was late again and nobody told me.", ("communication",)),
         ("The box showed up days late and the beans were already past their best.", ("product quality",))),
    ),
    "staff and service": (
        (("{employee} at the counter was lovely and remembered my usual.", ()),
         ("The barista took time to explain the roasts.", ()),
         ("Staff were friendly and genuinely helpful.", ())),
        (("The person at the till was rude and clearly didn't want to be there.", ()),
         ("Nobody greeted me and I had to ask twice for help.", ()),
         ("Staff seemed overwhelmed and short with customers.", ())),
    ),
    "product quality": (
        (("The coffee tastes amazing, rich and balanced.", ()), ("Best beans I have bought in years.", ()),
         ("Consistently great quality, every bag is fresh.", ())),
        (("The beans tasted stale and flat.", ()), ("Quality has really dropped compared to last year.", ()),
         ("The grinder stopped working after two weeks.", ())),
    ),
    "price and value": (
        (("Fair prices for what you get.", ()), ("The loyalty discount makes it good value.", ())),
        (("Way too expensive for what it is.", ()), ("Prices went up again and the bags got smaller.", ())),
    ),
    "waiting time": (
        (("I was in and out in two minutes.", ()), ("Even at the morning rush the line moved fast.", ())),
        (("I waited twenty minutes for a simple latte.", ()),
         ("The queue was out the door and only one till was open.", ())),
    ),
    "communication": (
        (("Support sorted my problem in one call.", ("staff and service",)),
         ("The chat agent fixed my order in minutes, thank you.", ("staff and service",)),
         ("They emailed me straight away to say what was happening.", ())),
        (("Support kept transferring me and nobody could help.", ("staff and service",)),
         ("I explained the issue twice and still have no answer.", ()),
         ("Nobody replied to my emails for a week.", ())),
    ),
    "returns and refunds": (
        (("The refund came through in two days.", ()), ("Returning it was easy, no questions asked.", ())),
        (("I had to call three times to get a simple refund.", ("communication",)),
         ("Still waiting for my money back after sending the bag back.", ())),
    ),
    "website and app": (
        (("Ordering on the app is quick and easy.", ()), ("The app remembers my order, which I love.", ()),
         ("The website is clear and checkout was painless.", ())),
        (("The app crashed at checkout twice.", ()), ("The app keeps logging me out and losing my basket.", ()),
         ("Checkout on the website failed and charged me twice.", ()),
         ("Could not find the tracking page on the site.", ("delivery",))),
    ),
    "store": (
        (("The shop is cosy and always clean.", ()), ("Love the atmosphere in the store.", ())),
        (("The store was messy and the tables sticky.", ()), ("It was too noisy to even have a conversation.", ())),
    ),
}
OPENERS_POS = ("", "Really happy overall. ", "Great experience. ", "Thanks! ", "Always a pleasure. ")
OPENERS_NEG = ("", "Disappointed. ", "Not impressed this time. ", "Honestly frustrating. ", "Sorry, but ")
OPENERS_MID = ("", "It was okay. ", "Mixed feelings. ")
CLOSERS_POS = ("", " Will definitely be back.", " Keep it up!", " Recommended to my friends already.")
CLOSERS_NEG = ("", " I'm thinking of going elsewhere.", " Please fix this.", " Not sure I will order again.")


@dataclass(frozen=True)
class Comment:
    """A comment and its ground truth: the aspects it speaks of and the sentiment it was written with."""

    text: str
    aspects: frozenset[str]
    sentiment: str  # positive, negative, or mixed (a comment of both)


def written(rng: random.Random, *, sentiment: float, aspects: list[str], employee: str = "the barista") -> Comment:
    """A comment of one to three sentences on at most two ``aspects``; ``sentiment`` runs from -1 (angry) to 1
    (delighted)."""
    chosen = list(dict.fromkeys(aspects))[:2] or [rng.choice(list(ASPECTS))]
    sentences: list[str] = []
    named: set[str] = set()
    tones: set[str] = set()
    for aspect in chosen:
        positive, negative = ASPECTS[aspect]
        pool = positive if sentiment > 0.1 else negative if sentiment < -0.1 else positive + negative
        text, also = rng.choice(pool)
        sentences.append(text.format(employee=employee))
        named.update((aspect, *also))
        tones.add("positive" if (text, also) in positive else "negative")
    if sentiment > 0.1:
        opener, closer = rng.choice(OPENERS_POS), rng.choice(CLOSERS_POS)
    elif sentiment < -0.1:
        opener, closer = rng.choice(OPENERS_NEG), rng.choice(CLOSERS_NEG)
    else:
        opener, closer = rng.choice(OPENERS_MID), ""
    return Comment((opener + " ".join(sentences) + closer).strip(), frozenset(named),
                   tones.pop() if len(tones) == 1 else "mixed")


def comment(rng: random.Random, *, sentiment: float, aspects: list[str], employee: str = "the barista") -> str:
    """The text of a ``written`` comment."""
    return written(rng, sentiment=sentiment, aspects=aspects, employee=employee).text
