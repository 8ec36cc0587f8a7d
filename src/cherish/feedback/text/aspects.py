"""The customer-experience taxonomy, and which of its aspects a text speaks of.

Each aspect is a set of word patterns over lower-cased text (whole words, with the usual endings). They are written
for what customers write about a purchase, a visit or a contact, not for one business: a company adds its own
words with ``Taxonomy.extended``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ASPECTS = ("delivery", "price and value", "product quality", "staff and service", "waiting time",
           "website and app", "returns and refunds", "communication", "store")

_WORDS: dict[str, tuple[str, ...]] = {
    "delivery": (
        r"deliver(y|ies|ed|ing)?", r"ship(ping|ped|ment)?", r"courier", r"parcels?", r"packages?", r"postage",
        r"dispatch(ed)?", r"arriv(ed|al|es)", r"tracking", r"showed up", r"turned up", r"in the post",
        r"(came|arrived|was|were) (\w+ )?(late|early)", r"days late", r"delayed", r"well packed",
        r"packaging", r"driver"),
    "price and value": (
        r"prices?d?", r"pricing", r"expensive", r"cheap(er|est)?", r"costs?", r"costly", r"value",
        r"overpriced", r"afford(able)?", r"discounts?", r"money(?! back)", r"worth (it|the)", r"bargain", r"charges?",
        r"fees?"),
    "product quality": (
        r"quality", r"tast(e|es|ed|y|eless)", r"flavou?rs?", r"fresh(ness)?", r"stale", r"beans?", r"the coffee",
        r"products?", r"items?", r"broke(n)?", r"defective", r"faulty", r"stopped working", r"damaged",
        r"fell apart", r"works (great|well|perfectly)", r"durable", r"material"),
    "staff and service": (
        r"staff", r"employees?", r"barista", r"server", r"waiter", r"waitress", r"cashier", r"the person at",
        r"rude", r"friendly", r"unfriendly", r"helpful", r"unhelpful", r"polite", r"impolite", r"attitude",
        r"greeted", r"service", r"agent", r"support", r"manager", r"at the counter",
       ),
    "waiting time": (
        r"wait(ed|ing)? (\w+ ){0,2}(minutes?|hours?|ages|forever)", r"queu(e|es|ed|ing)", r"the line", r"took ages",
        r"in and out", r"rush", r"slow", r"quick service", r"waiting time", r"on hold"),
    "website and app": (
        r"websites?", r"the site", r"app", r"apps", r"online", r"checkout", r"log(ging)? (me )?(in|out)",
        r"login", r"crash(ed|es|ing)?", r"pages?", r"basket", r"cart", r"password"),
    "returns and refunds": (
        r"returns?", r"return(ed|ing)", r"refunds?", r"refunded", r"exchange", r"money back", r"reimburs\w*",
        r"sending the \w+ back", r"sent (it|them) back", r"send (it|them) back"),
    "communication": (
        r"e-?mail(s|ed)?", r"told", r"inform(ed)?", r"updates?", r"no answer", r"answer(ed)?", r"respon(d|ded|se)",
        r"repl(y|ied)", r"call(s|ed)?", r"phoned?", r"contact(ed)?", r"kept me posted", r"transferr(ing|ed)",
        r"chat", r"explained the issue", r"let me know", r"nobody (told|said)"),
    "store": (
        r"stores?", r"shops?", r"branch", r"atmosphere", r"clean", r"dirty", r"messy", r"tables?", r"noisy",
        r"cosy", r"cozy", r"parking", r"seating", r"toilets?", r"music", r"decor"),
}


@dataclass(frozen=True)
class Taxonomy:
    """Aspects and the patterns that find them (compiled once)."""

    patterns: dict[str, re.Pattern[str]]

    @classmethod
    def of(cls, words: Mapping[str, Iterable[str]]) -> Taxonomy:
        return cls({aspect: re.compile(r"\b(" + "|".join(ws) + r")\b") for aspect, ws in words.items()})

    def extended(self, words: Mapping[str, Iterable[str]]) -> Taxonomy:
        """This taxonomy with more words for some aspects (or new aspects), as patterns."""
        merged = {aspect: [p.pattern[3:-3]] for aspect, p in self.patterns.items()}
        for aspect, more in words.items():
            merged.setdefault(aspect, []).extend(more)
        return Taxonomy.of(merged)

    def found_in(self, text: str) -> list[str]:
        """The aspects a (lower-cased) text speaks of, in the taxonomy's order."""
        return [aspect for aspect, pattern in self.patterns.items() if pattern.search(text)]


DEFAULT = Taxonomy.of(_WORDS)
