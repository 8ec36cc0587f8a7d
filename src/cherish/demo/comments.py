"""Survey comments for the demo: varied sentences whose sentiment follows the score and name real aspects."""

from __future__ import annotations

import random

ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # aspect: (positive sentences, negative sentences)
    "delivery": (
        ("The parcel arrived a day early and well packed.", "Delivery was quick, no complaints there.",
         "Shipping was fast and the tracking updates were spot on."),
        ("My order arrived almost a week after the promised date.", "Delivery was late again and nobody told me.",
         "The box showed up days late and the beans were already past their best."),
    ),
    "staff": (
        ("{employee} at the counter was lovely and remembered my usual.",
         "The barista took time to explain the roasts.",
         "Staff were friendly and genuinely helpful."),
        ("The person at the till was rude and clearly didn't want to be there.",
         "Nobody greeted me and I had to ask twice for help.", "Staff seemed overwhelmed and short with customers."),
    ),
    "quality": (
        ("The coffee tastes amazing, rich and balanced.", "Best beans I have bought in years.",
         "Consistently great quality, every bag is fresh."),
        ("The beans tasted stale and flat.", "Quality has really dropped compared to last year.",
         "The grinder stopped working after two weeks."),
    ),
    "price": (
        ("Fair prices for what you get.", "The loyalty discount makes it good value.",),
        ("Way too expensive for what it is.", "Prices went up again and the bags got smaller.",),
    ),
    "wait": (
        ("I was in and out in two minutes.", "Even at the morning rush the line moved fast."),
        ("I waited twenty minutes for a simple latte.", "The queue was out the door and only one till was open."),
    ),
    "support": (
        ("Support sorted my problem in one call.", "The chat agent fixed my order in minutes, thank you.",),
        ("I had to call three times to get a simple refund.", "Support kept transferring me and nobody could help.",
         "I explained the issue twice and still have no answer."),
    ),
    "app": (
        ("Ordering on the app is quick and easy.", "The app remembers my order, which I love."),
        ("The app crashed at checkout twice.", "The app keeps logging me out and losing my basket."),
    ),
    "website": (
        ("The website is clear and checkout was painless.",),
        ("Checkout on the website failed and charged me twice.", "Could not find the tracking page on the site."),
    ),
    "store": (
        ("The shop is cosy and always clean.", "Love the atmosphere in the store."),
        ("The store was messy and the tables sticky.", "It was too noisy to even have a conversation."),
    ),
}
OPENERS_POS = ("", "Really happy overall. ", "Great experience. ", "Thanks! ", "Always a pleasure. ")
OPENERS_NEG = ("", "Disappointed. ", "Not impressed this time. ", "Honestly frustrating. ", "Sorry, but ")
OPENERS_MID = ("", "It was okay. ", "Mixed feelings. ")
CLOSERS_POS = ("", " Will definitely be back.", " Keep it up!", " Recommended to my friends already.")
CLOSERS_NEG = ("", " I'm thinking of going elsewhere.", " Please fix this.", " Not sure I will order again.")


def comment(rng: random.Random, *, sentiment: float, aspects: list[str], employee: str = "the barista") -> str:
    """A comment of one to three sentences; ``sentiment`` runs from -1 (angry) to 1 (delighted)."""
    chosen = list(dict.fromkeys(aspects))[:2] or [rng.choice(list(ASPECTS))]
    sentences = []
    for aspect in chosen:
        positive, negative = ASPECTS[aspect]
        pool = positive if sentiment > 0.1 else negative if sentiment < -0.1 else positive + negative
        sentences.append(rng.choice(pool).format(employee=employee))
    if sentiment > 0.1:
        opener, closer = rng.choice(OPENERS_POS), rng.choice(CLOSERS_POS)
    elif sentiment < -0.1:
        opener, closer = rng.choice(OPENERS_NEG), rng.choice(CLOSERS_NEG)
    else:
        opener, closer = rng.choice(OPENERS_MID), ""
    return (opener + " ".join(sentences) + closer).strip()
