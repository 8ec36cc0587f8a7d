"""The contact policy's gate: decisions per second for many pending messages (issue 14: at least 50,000/s for
1,000,000).

Usage: python benchmarks/contact_gate.py [--messages 1000000] [--customers 200000]

Customers get random consent (a third grant marketing, a tenth deny feedback), a time zone among five, and up to
three messages sent in the last month; messages get a random purpose and a time within a week. What is timed is
`cherish.contact.policy.decide` for every message, each decision counted against the customer's sends so far (a
sent message joins the customer's history, as the flow does), as the worker decides a batch once the customers'
state is loaded. Loading that state from the store is measured by the release benchmark in tests at small sizes.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cherish.contact import policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(5)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    zones = [ZoneInfo(z) for z in ("UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney")]
    rules = policy.Rules(consent_defaults={"service": "granted", "feedback": "granted", "marketing": "denied"},
                         caps=(policy.Cap(2, 7), policy.Cap(6, 30)), zone=zones[0])
    people = []
    for _ in range(args.customers):
        consent = {}
        if rng.random() < 0.33:
            consent[("marketing", "any")] = "granted"
        if rng.random() < 0.1:
            consent[("feedback", "email")] = "denied"
        sent = [policy.Sent(start - timedelta(days=rng.uniform(0, 30)), "email", "feedback")
                for _ in range(rng.randint(0, 3))]
        people.append(policy.Customer(consent=consent, contacts=sent, zone=rng.choice(zones)))
    week = 7 * 24 * 60
    asks = [(rng.randrange(args.customers), rng.choice(policy.PURPOSES), start + timedelta(minutes=rng.randrange(week)))
            for _ in range(args.messages)]
    asks.sort(key=lambda a: a[2])
    outcomes: Counter[str] = Counter()
    began = time.perf_counter()
    for who, purpose, at in asks:
        person = people[who]
        decision = policy.decide(person, policy.Request(purpose, "email", at, at + timedelta(days=3)), rules)
        outcomes[decision.outcome] += 1
        if decision.outcome == "sent":
            person.contacts.append(policy.Sent(at, "email", purpose))
    elapsed = time.perf_counter() - began
    print(json.dumps({"messages": args.messages, "customers": args.customers, "seconds": round(elapsed, 2),
                      "decisions_per_s": round(args.messages / elapsed), "outcomes": dict(outcomes)}))


if __name__ == "__main__":
    main()
