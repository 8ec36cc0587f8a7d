"""Reaching out to customers: every message passes the contact policy, is logged with its decision, and, when sent,
leaves through the outbox in the same transaction. Deferred messages are decided again when their time comes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.contact import policy
from cherish.contact.models import Contact
from cherish.contact.service import load, rules_in_force
from cherish.contact.unsubscribe import link
from cherish.customers import service as customers
from cherish.db.base import new_id, utcnow
from cherish.db.dialects import lock_names
from cherish.db.engine import Store
from cherish.errors import InvalidInput, NotFound
from cherish.identity.lookup import contacts as addresses_of
from cherish.outbox import service as outbox

CHANNELS = policy.CHANNELS
MAX_KEY = 100  # (the outbox's key is ctc_ and this, in 120 characters)
EXPIRY = {"service": 2, "recovery": 3, "feedback": 7, "gesture": 14, "marketing": 14}  # days a message stays relevant


@dataclass
class Message:
    """Something to tell a customer: ``content`` holds ``subject``, ``text`` and ``html`` (email) or ``text``."""

    customer_id: str
    purpose: str
    channel: str
    topic: str
    content: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the same key twice is one message
    expires_at: datetime | None = None


def _check(message: Message) -> None:
    if message.purpose not in policy.PURPOSES:
        raise InvalidInput(f"unknown purpose {message.purpose!r}; choose one of {', '.join(policy.PURPOSES)}")
    if message.channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {message.channel!r}; choose one of {', '.join(CHANNELS)}")
    if not message.topic.strip():
        raise InvalidInput("a message needs a topic (what it is about, for the contact log)")
    if message.key is not None and not 0 < len(message.key) <= MAX_KEY:
        raise InvalidInput(f"a message's key has 1 to {MAX_KEY} characters")


def reach_out(session: Session, settings: Settings, messages: list[Message], *,
              now: datetime | None = None) -> list[Contact]:
    """Decide and log each message (higher purposes first); send those allowed. A key seen before gives back the
    contact it made."""
    now = now or utcnow()
    for message in messages:
        _check(message)
    keys = [m.key for m in messages if m.key]
    known = {c.key: c for c in session.scalars(select(Contact).where(Contact.key.in_(keys)))} if keys else {}
    survivors = customers.survivors(session, [m.customer_id for m in messages])
    unknown = sorted({m.customer_id for m in messages} - set(survivors))
    if unknown:
        raise NotFound(f"no customer {unknown[0]}")
    rules = rules_in_force(session, settings)
    people = list({survivors.get(m.customer_id, m.customer_id) for m in messages})
    lock_names(session, [f"contacts:{c}" for c in people])  # one decision at a time per customer
    states = load(session, settings, people, now, rules)
    addresses = addresses_of(session, people)
    made: dict[int, Contact] = {}
    for index, message in sorted(enumerate(messages), key=lambda item: -policy.PRIORITY[item[1].purpose]):
        if message.key and message.key in known:
            made[index] = known[message.key]
            continue
        customer = survivors.get(message.customer_id, message.customer_id)
        expires = message.expires_at or now + timedelta(days=EXPIRY[message.purpose])
        contact = Contact(key=message.key or new_id("ctc"), customer_id=customer, purpose=message.purpose,
                          channel=message.channel, topic=message.topic.strip()[:200], outcome="", reason="",
                          created_at=now, decided_at=now, expires_at=expires, decisions=0, content=message.content)
        session.add(contact)
        _decide(session, settings, contact, states[customer], rules, now, addresses.get(customer, {}))
        if message.key:
            known[message.key] = contact
        made[index] = contact
    session.flush()
    return [made[i] for i in range(len(messages))]


def _decide(session: Session, settings: Settings, contact: Contact, state: policy.Customer, rules: policy.Rules,
            now: datetime, address: dict[str, str]) -> None:
    survey = policy.is_survey(contact.purpose, contact.topic)
    decision = policy.decide(state, policy.Request(contact.purpose, contact.channel, now, contact.expires_at, survey),
                             rules)
    if decision.outcome == "sent":
        problem = _send(session, settings, contact, address)
        if problem:
            decision = policy.Decision("suppressed", problem)
        else:
            state.contacts.append(policy.Sent(now, contact.channel, contact.purpose, survey))
    contact.outcome, contact.reason, contact.decided_at = decision.outcome, decision.reason, now
    contact.send_at, contact.decisions = decision.send_at, contact.decisions + 1
    if decision.outcome in ("suppressed", "dropped", "sent"):
        contact.content = None  # what would have been said is not kept once settled (it went to the outbox)


def _send(session: Session, settings: Settings, contact: Contact, address: dict[str, str]) -> str | None:
    """Hand a contact to the outbox (``address``: the customer's latest email and phone); the reason it cannot go,
    if any."""
    content = contact.content or {}
    if contact.channel == "email":
        if not address.get("email"):
            return "no email address is known for the customer"
        asked = policy.CONSENT_PURPOSE[contact.purpose]
        body = {"to": address["email"], "subject": str(content.get("subject") or contact.topic),
                "text": str(content.get("text") or ""), "html": content.get("html"),
                "unsubscribe": link(session, settings, contact.customer_id, asked, "email")
                if asked != "service" else None}  # (a receipt or an apology is not something to unsubscribe from)
        message = outbox.enqueue(session, kind="email", type=f"message.{contact.purpose}", body=body,
                                 customer_id=contact.customer_id, key=f"ctc_{contact.key}")
    else:
        senders = outbox.subscribers(session, f"message.{contact.channel}")
        if not senders:
            return f"no sender is set up for {contact.channel} (`cherish webhooks add URL --kind sender " \
                   f"--events message.{contact.channel}`)"
        to = address.get("phone") if contact.channel == "sms" else contact.customer_id
        if not to:
            return f"no address on {contact.channel} is known for the customer"
        body = outbox.envelope(f"message.{contact.channel}", {
            "customer_id": contact.customer_id, "to": to, "purpose": contact.purpose, "topic": contact.topic,
            "text": str(content.get("text") or "")})
        message = outbox.enqueue(session, kind="sender", type=f"message.{contact.channel}", body=body,
                                 endpoint_id=senders[0].id, customer_id=contact.customer_id, key=f"ctc_{contact.key}")
    session.flush()
    contact.outbox_message_id = message.id
    return None


def release_due(store: Store, settings: Settings, *, limit: int = 500, now: datetime | None = None) -> int:
    """Decide again the deferred contacts whose time has come, higher purposes first; how many."""
    now = now or utcnow()
    order = case({p: policy.PRIORITY[p] for p in policy.PURPOSES}, value=Contact.purpose, else_=0)
    with store.read() as session:  # read first: an idle worker takes no write transaction
        if session.scalar(select(Contact.id).where(Contact.outcome == "deferred", Contact.send_at <= now)
                          .limit(1)) is None:
            return 0
    with store.write() as session:
        due = list(session.scalars(select(Contact).where(Contact.outcome == "deferred", Contact.send_at <= now)
                                   .order_by(order.desc(), Contact.send_at, Contact.id).limit(limit)
                                   .with_for_update(skip_locked=True)))
        if not due:
            return 0
        rules = rules_in_force(session, settings)
        lock_names(session, [f"contacts:{c.customer_id}" for c in due])
        people = list({c.customer_id for c in due})
        states = load(session, settings, people, now, rules)
        addresses = addresses_of(session, people)
        for contact in due:
            if contact.expires_at <= now:
                contact.outcome, contact.reason, contact.decided_at = "dropped", "expired while waiting", now
                contact.decisions, contact.content = contact.decisions + 1, None
                continue
            _decide(session, settings, contact, states[contact.customer_id], rules, now,
                    addresses.get(contact.customer_id, {}))
        return len(due)
