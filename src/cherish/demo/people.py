"""One simulated person of the demo company: who they are, what they buy and say, on which channels.

Every identifier a person uses is theirs alone (random ids carry the person's number), so that chunks of people
can be ingested apart (`cherish.demo.build`); the same person still uses different identifiers on different
channels, and a few keep a second profile that shares none with the first."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cherish.demo.comments import comment
from cherish.demo.company import BRANCHES, CATALOG, EMAIL_DOMAINS, EMPLOYEES, FIRST_NAMES, LAST_NAMES, STREETS

AREA_CODES = ("503", "206", "208", "509", "541", "253", "971", "360", "425", "458", "986", "564", "212", "415",
              "312", "617", "303", "512", "702", "619")
TYPOS = {"Olivia": "Olivia", "Sophia": "Sofia", "Isabella": "Isabela", "Elijah": "Elija", "Benjamin": "Ben",
         "Alexander": "Alex", "William": "Will", "Michael": "Mike", "Samuel": "Sam", "Daniel": "Dan"}
EMPLOYEE_EFFECT = {emp: ((int(emp[-3:]) * 37) % 11 - 5) / 5 for emp, _ in EMPLOYEES}
BRANCH_QUALITY = {b[0]: b[4] for b in BRANCHES}
STAFF: dict[str, list[str]] = {}
for _emp, _place in EMPLOYEES:
    STAFF.setdefault(_place, []).append(_emp)


@dataclass
class Person:
    index: int
    first: str
    last: str
    birthday: date
    address: dict[str, str]
    email: str
    phone: str
    user_id: str | None
    loyalty_id: str | None
    devices: list[str]
    card: str
    branch: str
    channels: list[str]
    weights: list[float]
    disposition: float
    alternate: dict[str, Any] | None = None
    keys: set[tuple[str, str]] = field(default_factory=set)


def make_person(rng: random.Random, index: int, seed: int) -> Person:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    branch = BRANCHES[rng.randrange(len(BRANCHES))]
    handle = f"{first}.{last}".lower().replace("'", "")
    area = AREA_CODES[(index // 8_000_000) % len(AREA_CODES)]
    phone = f"+1{area}{200 + (index // 10_000) % 800}{index % 10_000:04d}"
    channels = ["web", "app", "store", "phone"]
    weights = [rng.uniform(0, 1) ** 2 for _ in channels]
    weights[rng.randrange(4)] += 1.5  # most people have a favourite channel
    person = Person(
        index=index, first=first, last=last,
        birthday=date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365)),
        address={"street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}", "city": branch[1],
                 "postalCode": branch[2], "state": branch[3], "country": "US"},
        email=f"{handle}{index}@{rng.choice(EMAIL_DOMAINS)}", phone=phone,
        user_id=f"u{seed}-{index:07d}" if rng.random() < 0.55 else None,
        loyalty_id=f"L{seed}{index:08d}" if rng.random() < 0.4 else None,
        devices=[f"anon-{index:x}-{rng.getrandbits(64):016x}" for _ in range(rng.choice((1, 1, 2, 3)))],
        card=f"card-{index:x}-{rng.getrandbits(48):012x}", branch=branch[0], channels=channels, weights=weights,
        disposition=rng.gauss(0, 1.2),
    )
    if rng.random() < 0.03:  # a second, unconnected profile in the shops: only name, birthday, address match
        person.alternate = {
            "first": TYPOS.get(first, first) if rng.random() < 0.3 else first,
            "email": f"{handle[:3]}{rng.randint(10, 99)}.{index}@work-mail.com",
            "phone": f"+1{AREA_CODES[(index // 8_000_000 + 7) % len(AREA_CODES)]}{200 + (index // 10_000) % 800}"
                     f"{index % 10_000:04d}",
            "loyalty_id": f"K{seed}{index:08d}",
            "card": f"card-{index:x}-{rng.getrandbits(48):012x}",
            # some moved house or left the birthday out: the harder cases that end up in review
            "street": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}" if rng.random() < 0.25 else None,
            "birthday": rng.random() > 0.2,
        }
    return person


class Writer:
    """Builds Segment-spec messages for one person and remembers which identifiers they used."""

    def __init__(self, person: Person, seed: int) -> None:
        self.person, self.seed = person, seed
        self.messages: list[dict[str, Any]] = []
        self.counter = 0

    def add(self, kind: str, when: datetime, ids: dict[str, str], *, event: str | None = None,
            properties: dict[str, Any] | None = None, traits: dict[str, Any] | None = None,
            context_traits: dict[str, Any] | None = None, channel: str | None = None) -> None:
        self.counter += 1
        message: dict[str, Any] = {"type": kind, "messageId": f"demo-{self.seed}-{self.person.index}-{self.counter}",
                                   "timestamp": when.isoformat(), **ids}
        if event:
            message["event"] = event
        if properties is not None:
            message["properties"] = properties
        if traits is not None:
            message["traits"] = traits
        context: dict[str, Any] = {}
        if channel:
            context["channel"] = channel
        if context_traits:
            context["traits"] = context_traits
        if context:
            message["context"] = context
        self.messages.append(message)
        for name, kind_ in (("userId", "user_id"), ("anonymousId", "anonymous_id")):
            if name in ids:
                self.person.keys.add((kind_, ids[name]))
        for holder in (traits or {}, context_traits or {}):
            for name in ("email", "phone", "loyalty_id"):
                if name in holder:
                    self.person.keys.add((name, str(holder[name]).lower() if name == "email" else str(holder[name])))


def _basket(rng: random.Random) -> list[dict[str, Any]]:
    lines = []
    for product in rng.sample(CATALOG, rng.choice((1, 1, 1, 2, 2, 3))):
        quantity = 1 if product.price > 40 else rng.choice((1, 1, 2, 3))
        lines.append({"product_id": product.product_id, "sku": product.sku, "name": product.name,
                      "category": product.category, "price": product.price, "quantity": quantity})
    return lines


def _score(kind: str, rng: random.Random, mood: float) -> int:
    noise = rng.gauss(0, 1.0)
    if kind == "nps":
        return max(0, min(10, round(8.2 + mood + noise)))
    if kind == "csat":
        return max(1, min(5, round(4.1 + (mood + noise) / 2.2)))
    return max(1, min(7, round(5.6 + (mood + noise) / 1.8)))


def simulate(person: Person, rng: random.Random, *, seed: int, start: datetime, end: datetime) -> Writer:
    """Every message this person causes between ``start`` and ``end``."""
    w = Writer(person, seed)
    span = (end - start).total_seconds()
    first_seen = start + timedelta(seconds=span * (rng.random() ** 0.8))  # more people joined recently
    device = person.devices[0]
    web_ids = {"anonymousId": device, **({"userId": person.user_id} if person.user_id else {})}
    profile_traits = {"email": person.email, "first_name": person.first, "last_name": person.last,
                      "phone": person.phone, "birthday": person.birthday.isoformat(), "address": person.address,
                      "consent": {"marketing": {"email": rng.random() < 0.6}, "feedback": rng.random() < 0.85}}
    if person.user_id:
        w.add("identify", first_seen, web_ids, traits=profile_traits, channel="web")
    if person.loyalty_id:
        w.add("identify", first_seen + timedelta(minutes=5), {"anonymousId": person.card},
              traits={"loyalty_id": person.loyalty_id, "first_name": person.first, "last_name": person.last,
                      "phone": person.phone, "birthday": person.birthday.isoformat(), "address": person.address},
              channel="store")
    rate = rng.gammavariate(0.75, 1 / 45)  # purchases per day while active
    dropout = rng.betavariate(1.3, 3.2)
    when = first_seen + timedelta(hours=rng.uniform(0, 2))
    buys = rng.random() > 0.1
    order_no = 0
    while buys and when < end:
        order_no += 1
        _order(w, rng, when, order_no, web_ids, end)
        if rng.random() < dropout:
            break
        when += timedelta(days=rng.expovariate(max(rate, 1e-4)) + 0.5)
    if person.alternate and buys:
        _alternate(w, rng, first_seen + timedelta(days=rng.uniform(5, 200)), end)
    return w


def _order(w: Writer, rng: random.Random, when: datetime, number: int, web_ids: dict[str, str], end: datetime) -> None:
    person = w.person
    channel, ids, context_traits, branch, employee = _where_bought(person, rng, web_ids)
    if channel in ("web", "app") and rng.random() < 0.5:
        for product in rng.sample(CATALOG, rng.randint(1, 3)):
            w.add("track", when - timedelta(minutes=rng.randint(2, 40)), ids, event="Product Viewed",
                  properties={"product_id": product.product_id, "name": product.name, "category": product.category,
                              "price": product.price}, channel=channel)
    lines = _basket(rng)
    order_id = f"D{w.seed}-{person.index:07d}-{number:03d}"
    properties: dict[str, Any] = {"order_id": order_id, "products": lines, "currency": "USD",
                                  "total": round(sum(x["price"] * x["quantity"] for x in lines), 2)}
    if branch:
        properties.update(branch=branch, employee=employee)
    late = False
    shipped = channel in ("web", "app", "phone")
    if shipped:
        promised = (when + timedelta(days=3)).date()
        properties["promised_delivery_date"] = promised.isoformat()
    w.add("track", when, ids, event="Order Completed", properties=properties, context_traits=context_traits,
          channel=channel)
    mood = person.disposition + (BRANCH_QUALITY.get(branch, 0.0) if branch else 0.0)
    mood += EMPLOYEE_EFFECT.get(employee, 0.0) * 0.6 if employee else 0.0
    aspects = ["product quality"] if rng.random() < 0.5 else ["price and value"]
    if branch:
        aspects = [rng.choice(("staff and service", "waiting time", "store", "product quality"))] + aspects
    if shipped:
        late = _deliver(w, rng, when, ids, order_id, channel, end)
        if late:
            mood -= 2.8
            aspects = ["delivery"] + aspects
        elif rng.random() < 0.3:
            aspects = ["delivery"] + aspects
        if channel in ("app", "web") and rng.random() < 0.2:
            aspects.append("website and app")
    contacts = 0
    if late and rng.random() < 0.6 or rng.random() < 0.04:
        contacts = 1 + (rng.random() < 0.35) + (rng.random() < 0.15)
        mood -= 0.9 * (contacts - 1)
        aspects = [rng.choice(("communication", "returns and refunds"))] + aspects
        _support(w, rng, when + timedelta(days=4), order_id, contacts, mood, end)
    if rng.random() < 0.3 and when + timedelta(days=6) < end:
        survey_at = when + timedelta(days=6 if shipped else 1, hours=rng.randint(0, 12))
        _survey(w, rng, survey_at, ids, context_traits or {"email": person.email}, order_id, channel, branch,
                employee, mood, aspects)


def _survey(w: Writer, rng: random.Random, at: datetime, ids: dict[str, str], context_traits: dict[str, Any],
            order_id: str, channel: str, branch: str | None, employee: str | None, mood: float,
            aspects: list[str]) -> None:
    """The post-purchase NPS survey, answered at ``at`` in the person's ``mood``, half the time with a comment."""
    nps = _score("nps", rng, mood)
    properties: dict[str, Any] = {"score_type": "nps", "score": nps, "survey": "post-purchase", "channel": channel,
                                  "order_id": order_id}
    if branch:
        properties.update(branch=branch, employee=employee)
    if rng.random() < 0.55:
        properties["comment"] = comment(rng, sentiment=(nps - 7) / 3, aspects=aspects,
                                        employee=(employee or "the barista"))
    survey_channel = "email" if channel in ("web", "app", "phone") else "store"
    w.add("track", at, ids, event="Feedback Submitted", properties=properties, context_traits=context_traits,
          channel=survey_channel)


def _where_bought(person: Person, rng: random.Random, web_ids: dict[str, str]
                  ) -> tuple[str, dict[str, str], dict[str, Any], str | None, str | None]:
    """The channel of a purchase, the ids and traits it carries there, and in a store or on the phone the branch
    and the employee who served."""
    channel = rng.choices(person.channels, person.weights)[0]
    if channel == "app" and not person.user_id:
        channel = "web"
    context_traits: dict[str, Any] = {}
    branch = employee = None
    if channel == "web":
        ids = dict(web_ids) if rng.random() < 0.8 else {"anonymousId": person.devices[-1]}
        context_traits = {"email": person.email, "phone": person.phone}
    elif channel == "app":
        ids = {"userId": str(person.user_id), "anonymousId": person.devices[-1]}  # (an app user has a user id)
    elif channel == "store":
        branch = person.branch if rng.random() < 0.85 else BRANCHES[rng.randrange(len(BRANCHES))][0]
        employee = rng.choice(STAFF[branch])
        ids = {"anonymousId": person.card}
        if person.loyalty_id:
            context_traits = {"loyalty_id": person.loyalty_id}
        elif rng.random() < 0.75:  # asks for an e-receipt by phone number
            context_traits = {"phone": person.phone}
    else:
        employee = rng.choice(STAFF["phone"])
        ids = {"anonymousId": f"call-{person.index:x}-{rng.getrandbits(40):010x}"}
        context_traits = {"phone": person.phone}
    return channel, ids, context_traits, branch, employee


def _deliver(w: Writer, rng: random.Random, when: datetime, ids: dict[str, str], order_id: str, channel: str,
             end: datetime) -> bool:
    """Ship and deliver an order bought at ``when`` (the events that happened before ``end``); whether it came late."""
    delay = rng.choice((2, 2, 3, 3, 3)) if rng.random() > 0.11 else rng.randint(5, 10)
    delivered = when + timedelta(days=delay, hours=rng.randint(1, 8))
    if delivered < end:
        w.add("track", when + timedelta(days=1), ids, event="Order Shipped", properties={"order_id": order_id},
              channel=channel)
        w.add("track", delivered, ids, event="Order Delivered", properties={"order_id": order_id}, channel=channel)
    return delay > 3


def _support(w: Writer, rng: random.Random, when: datetime, order_id: str, contacts: int, mood: float,
             end: datetime) -> None:
    person = w.person
    for attempt in range(contacts):
        at = when + timedelta(days=attempt * rng.uniform(0.5, 3))
        if at >= end:
            return
        channel = rng.choice(("phone", "chat", "email", "social"))
        employee = rng.choice(STAFF[channel])
        if channel == "phone":
            ids = {"anonymousId": f"call-{person.index:x}-{rng.getrandbits(40):010x}"}
            traits = {"phone": person.phone}
        elif channel == "social":
            ids = {"anonymousId": f"social-{person.first.lower()}{person.index}"}
            traits = {"email": person.email} if rng.random() < 0.6 else {}  # gave their email in the thread
        else:
            ids, traits = {"anonymousId": person.devices[0]}, {"email": person.email}
        w.add("track", at, ids, event="Support Contact", channel=channel,
              properties={"order_id": order_id, "topic": rng.choice(("late delivery", "where is my order",
                                                                     "refund", "damaged item")),
                          "employee": employee, "contact_number": attempt + 1}, context_traits=traits)
        if rng.random() < 0.5:
            kind = rng.choice(("csat", "ces"))
            score = _score(kind, rng, mood + EMPLOYEE_EFFECT[employee] * 0.5)
            sentiment = (score - 3) / 2 if kind == "csat" else (score - 4) / 3
            properties = {"score_type": kind, "score": score, "survey": "support", "channel": channel,
                          "employee": employee}
            if rng.random() < 0.5:
                properties["comment"] = comment(rng, sentiment=sentiment, aspects=["communication"])
            w.add("track", at + timedelta(hours=2), ids, event="Feedback Submitted", channel="email",
                  properties=properties, context_traits=traits or None)


def _alternate(w: Writer, rng: random.Random, when: datetime, end: datetime) -> None:
    """Shop visits under a second profile that shares no identifier with the first one."""
    person, alt = w.person, w.person.alternate
    assert alt is not None
    if when >= end:
        return
    ids = {"anonymousId": alt["card"]}
    traits = {"loyalty_id": alt["loyalty_id"], "email": alt["email"], "phone": alt["phone"],
              "first_name": alt["first"], "last_name": person.last,
              "address": {**person.address, **({"street": alt["street"]} if alt.get("street") else {})}}
    if alt.get("birthday", True):
        traits["birthday"] = person.birthday.isoformat()
    w.add("identify", when, ids, channel="store", traits=traits)
    for number in range(rng.randint(1, 3)):
        at = when + timedelta(days=number * rng.uniform(10, 60), hours=1)
        if at >= end:
            break
        branch = person.branch
        lines = _basket(rng)
        w.add("track", at, ids, event="Order Completed", channel="store",
              properties={"order_id": f"A{w.seed}-{person.index:07d}-{number:02d}", "products": lines,
                          "total": round(sum(x["price"] * x["quantity"] for x in lines), 2), "currency": "USD",
                          "branch": branch, "employee": rng.choice(STAFF[branch])},
              context_traits={"loyalty_id": alt["loyalty_id"]})
