"""The contact policy's decision, by hand and over simulated years of messages (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cherish.contact.policy import CONSENT_PURPOSE, PRIORITY, PURPOSES, Cap, Customer, Request, Rules, Sent, decide

DEFAULTS = {"service": "granted", "feedback": "granted", "marketing": "denied"}
RULES = Rules(consent_defaults=DEFAULTS, caps=(Cap(2, 7), Cap(6, 30)), quiet_start=time(21), quiet_end=time(8))
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)


def ask(customer: Customer, purpose: str, at: datetime = NOON, channel: str = "email", days: float = 3):  # type: ignore[no-untyped-def]
    return decide(customer, Request(purpose, channel, at, at + timedelta(days=days)), RULES)


def test_consent_a_denial_wins_a_grant_allows_else_the_default():
    assert ask(Customer(), "marketing").outcome == "suppressed"  # default: ask first
    assert "no consent for marketing" in ask(Customer(), "marketing").reason
    assert ask(Customer(consent={("marketing", "any"): "granted"}), "marketing").outcome == "sent"
    gesture = ask(Customer(consent={("marketing", "email"): "granted"}), "gesture")
    assert gesture.outcome == "sent"  # a gesture asks consent as marketing
    denied = Customer(consent={("marketing", "any"): "granted", ("marketing", "email"): "denied"})
    assert ask(denied, "marketing").outcome == "suppressed" and "on email is denied" in ask(denied, "marketing").reason
    either = Customer(consent={("feedback", "any"): "denied", ("feedback", "email"): "granted"})
    assert ask(either, "feedback").outcome == "suppressed"  # a denial always wins
    assert ask(Customer(consent={("service", "any"): "denied"}), "recovery").outcome == "suppressed"
    assert ask(Customer(), "feedback").outcome == "sent" and ask(Customer(), "service").outcome == "sent"


def test_quiet_hours_in_the_customers_zone_defer_never_drop_unless_too_late():
    tokyo = Customer(zone=ZoneInfo("Asia/Tokyo"))  # 12:00 UTC is 21:00 in Tokyo
    waited = ask(tokyo, "feedback")
    assert waited.outcome == "deferred" and waited.send_at == datetime(2026, 3, 11, 8, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert "quiet hours" in waited.reason
    assert ask(tokyo, "service").outcome == "sent"  # service messages go at any hour
    assert ask(tokyo, "feedback", days=0.2).outcome == "dropped"
    assert ask(Customer(), "feedback").outcome == "sent"  # noon in the business zone (UTC)


def test_caps_over_rolling_windows_defer_until_a_place_frees_up():
    two_days_ago, yesterday = NOON - timedelta(days=2), NOON - timedelta(days=1)
    busy = Customer(contacts=[Sent(two_days_ago, "email", "feedback"), Sent(yesterday, "sms", "marketing")])
    waited = ask(busy, "feedback", days=10)
    assert waited.outcome == "deferred" and waited.send_at == two_days_ago + timedelta(days=7)
    assert "2 in 7 days" in waited.reason
    assert ask(busy, "feedback", days=1).outcome == "dropped"
    assert ask(busy, "service").outcome == "sent"  # exempt
    by_channel = Rules(consent_defaults=DEFAULTS, caps=(Cap(1, 7, "sms"),), quiet_start=None, quiet_end=None)
    sms_once = Customer(contacts=[Sent(yesterday, "sms", "feedback")])
    assert decide(sms_once, Request("feedback", "sms", NOON, NOON + timedelta(days=1)), by_channel).outcome == "dropped"
    assert decide(sms_once, Request("feedback", "email", NOON, NOON + timedelta(days=1)), by_channel).outcome == "sent"


def test_suppression_rules_come_first():
    gone = Customer(consent={("service", "any"): "granted"},
                    suppressions=[("suppressed by rule erased", None, None)])
    assert ask(gone, "service").outcome == "suppressed" and "erased" in ask(gone, "service").reason
    unsubscribed = Customer(suppressions=[("unsubscribed", frozenset({"marketing", "gesture"}), None)])
    assert ask(unsubscribed, "feedback").outcome == "sent" and ask(unsubscribed, "gesture").outcome == "suppressed"


ZONES = ["UTC", "America/Los_Angeles", "Europe/Paris", "Asia/Tokyo", "Pacific/Kiritimati"]


@settings(max_examples=60, deadline=None)
@given(
    customers=st.lists(st.tuples(
        st.sampled_from(ZONES),
        st.dictionaries(st.tuples(st.sampled_from(["service", "feedback", "marketing"]),
                                  st.sampled_from(["email", "any"])),
                        st.sampled_from(["granted", "denied"]), max_size=4),
        st.one_of(st.none(), st.frozensets(st.sampled_from(PURPOSES), min_size=1)),  # a suppression rule's purposes
    ), min_size=1, max_size=6),
    asks=st.lists(st.tuples(st.integers(0, 5), st.sampled_from(PURPOSES), st.integers(0, 365 * 24 * 60),
                            st.integers(1, 20 * 24 * 60)), min_size=1, max_size=80),
)
def test_a_simulated_year_breaks_no_cap_quiet_hour_consent_or_suppression_and_settles_each_once(customers, asks):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    people = [Customer(consent=dict(consent), zone=ZoneInfo(zone),
                       suppressions=[("suppressed by a rule", stopped, None)] if stopped else [])
              for zone, consent, stopped in customers]
    # each ask: (who, purpose, minute of the year it is asked, minutes it stays relevant)
    queue = sorted(((start + timedelta(minutes=minute), n, who % len(people), purpose, minutes)
                    for n, (who, purpose, minute, minutes) in enumerate(asks)), key=lambda q: (q[0], q[1]))
    final: dict[int, str] = {}
    sent: list[tuple[int, datetime, str]] = []
    while queue:
        # what is due next; among messages due at once, higher purposes first (as the worker releases them)
        queue.sort(key=lambda q: (q[0], -PRIORITY[q[3]], q[1]))
        at, n, who, purpose, minutes = queue.pop(0)
        expires = start + timedelta(minutes=asks[n][2] + minutes)
        decision = decide(people[who], Request(purpose, "email", at, expires), RULES)
        assert n not in final, "a message was decided after it was settled"
        if decision.outcome == "deferred":
            assert decision.send_at is not None and at < decision.send_at <= expires
            queue.append((decision.send_at, n, who, purpose, minutes))
            continue
        final[n] = decision.outcome
        if decision.outcome == "sent":
            people[who].contacts.append(Sent(at, "email", purpose))
            sent.append((who, at, purpose))
            assert not any(purpose in stopped for _, stopped, _ in people[who].suppressions if stopped)
            consent = people[who].consent
            asked = CONSENT_PURPOSE[purpose]
            assert "denied" not in (consent.get((asked, "email")), consent.get((asked, "any")))
            if "granted" not in (consent.get((asked, "email")), consent.get((asked, "any"))):
                assert DEFAULTS[asked] == "granted"
            if purpose != "service":
                local = at.astimezone(people[who].zone).time()
                assert time(8) <= local < time(21), f"sent at {local} local time"
    assert set(final) == set(range(len(asks)))  # every message settled, once
    for who in range(len(people)):
        times = sorted(at for w, at, purpose in sent if w == who and purpose != "service")
        for cap in RULES.caps:
            for i, at in enumerate(times):
                inside = [t for t in times[: i + 1] if at - t < timedelta(days=cap.days)]
                assert len(inside) <= cap.limit, f"{len(inside)} messages within {cap.days} days"
