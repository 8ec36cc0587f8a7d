"""Asking: who gets a survey and when, and the invitations that go out through the contact policy and the outbox.

A trigger ("two days after ``Order Delivered``") is read in two steps, each safe to run again: ``notice`` reads
the events stored since the last look and keeps an invitation, due at the event's time plus the delay, for each
event that matches the trigger's condition and falls in the sample; ``send_due`` hands the invitations whose
time has come to the contact policy (purpose ``feedback``: consent, survey fatigue, quiet hours and caps decide),
and ``remind_due`` sends the one reminder of an invitation still unanswered. Every invitation carries its own
signed, single-use token; a share link (for a receipt, an SMS, a QR code or a website) carries one per survey.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from html import escape
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cherish.access.service import instance_key
from cherish.config import Settings
from cherish.contact.flows import Message, reach_out
from cherish.contact.policy import SURVEY_TOPIC
from cherish.contact.service import sent_times
from cherish.db.base import utcnow
from cherish.db.dialects import insert_ignore
from cherish.errors import InvalidInput, NotFound, TooManyAttempts
from cherish.events.service import Happened, named_after, newest_id
from cherish.surveys import service as surveys
from cherish.surveys.models import Invitation, Survey
from cherish.surveys.strings import say

_SALT = "cherish-survey"
SHARED = ("link", "qr", "embed", "sms", "receipt")  # where a share link may be put
RESCAN = 5000  # events read again behind the last look: on PostgreSQL an id is taken before its commit
BATCH = 500


def _signer(session: Session, *, create: bool = True) -> URLSafeSerializer | None:
    """Survey links are signed with a key of their own, kept in the store (rotating the sessions' key must not
    break the links already sent)."""
    key = instance_key(session, "survey_key", create=create)
    return URLSafeSerializer(key, salt=_SALT) if key else None


def token_for(session: Session, invitation_id: int) -> str:
    signer = _signer(session)
    assert signer is not None
    return str(signer.dumps(["i", invitation_id]))


def share_token(session: Session, survey_id: str, via: str = "link") -> str:
    if via not in SHARED:
        raise InvalidInput(f"a share link is for one of {', '.join(SHARED)}")
    surveys.get(session, survey_id)
    signer = _signer(session)
    assert signer is not None
    return str(signer.dumps(["s", survey_id, via]))


def read_token(session: Session, token: str) -> tuple[str, Any, str | None]:
    """``("invitation", id, None)`` or ``("share", survey id, via)``; NotFound for a token cherish did not sign."""
    signer = _signer(session, create=False)
    try:
        if signer is None or len(token) > 300:
            raise BadSignature("no link was ever made")
        found = signer.loads(token)
        if found[0] == "i" and type(found[1]) is int and len(found) == 2:
            return "invitation", found[1], None
        if found[0] == "s" and isinstance(found[1], str) and found[2] in SHARED and len(found) == 3:
            return "share", found[1], found[2]
        raise BadSignature("not a survey token")
    except (BadSignature, ValueError, TypeError, IndexError, KeyError):
        raise NotFound("this survey link is not one cherish made") from None


def page_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/s/{token}"


def content(settings: Settings, survey: Survey, wording: Any, token: str, *, reminder: bool) -> dict[str, Any]:
    """The invitation's subject, plain text and HTML. The HTML asks the first question right in the email: each
    score is a link that opens the page with that score chosen (nothing is stored by opening it: mail scanners
    open links too)."""
    url = page_url(settings, token)
    first = wording.questions[0]
    low, high = surveys.SCALES[first["type"]]
    subject = (say("reminder_subject", title=wording.title) if reminder else wording.title)
    intro = wording.intro or say("invitation_intro")
    text = f"{intro}\n\n{first['text']}\n{say('answer_here')}: {url}\n"
    scale = say(f"scale_{first['type']}")
    cells = "".join(
        f'<td style="padding:2px"><a href="{escape(url)}?{first["id"]}={n}" style="display:inline-block;'
        f'min-width:28px;padding:8px 4px;border:1px solid #555;border-radius:4px;color:#111;text-align:center;'
        f'text-decoration:none;font:16px sans-serif" aria-label="{n}">{n}</a></td>' for n in range(low, high + 1))
    html = (f'<div style="font:16px/1.5 sans-serif;color:#111;max-width:560px">'
            f"<p>{escape(intro)}</p><p><strong>{escape(first['text'])}</strong></p>"
            f'<table role="presentation"><tr>{cells}</tr></table>'
            f'<p style="font-size:13px;color:#444">{escape(scale)}</p>'
            f'<p><a href="{escape(url)}">{escape(say("answer_here"))}</a></p></div>')
    return {"subject": subject, "text": text, "html": html}


def _sampled(survey: Survey, cause: str) -> bool:
    """Whether an event falls in the survey's sample: decided by a hash, the same on every look."""
    if survey.sampling >= 1:
        return True
    digest = hashlib.blake2b(f"{survey.id}:{cause}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < survey.sampling


def _matches(condition: dict[str, Any] | None, event: Happened) -> bool:
    if not condition:
        return True
    for name, wanted in condition.items():
        value = event.channel if name == "channel" and "channel" not in event.properties \
            else event.properties.get(name)
        if isinstance(value, str) and isinstance(wanted, str):
            if value.strip().lower() != wanted.strip().lower():
                return False
        elif value != wanted:
            return False
    return True


def _text(value: Any, size: int = 200) -> str | None:
    return str(value).strip()[:size] or None if isinstance(value, str | int | float) else None


def notice(session: Session, *, now: datetime | None = None) -> int:
    """Keep an invitation for each new event that triggers an active survey; how many."""
    now = now or utcnow()
    active = [s for s in session.scalars(select(Survey).where(Survey.status == "active",
                                                             Survey.trigger_event.is_not(None)).with_for_update())]
    if not active:
        return 0
    newest = newest_id(session)
    start = max(0, min(s_.seen_event_id for s_ in active) - RESCAN)
    names = sorted({s_.trigger_event for s_ in active if s_.trigger_event})
    rows: list[dict[str, Any]] = []
    oldest = min(now - timedelta(minutes=s_.trigger_delay_minutes or 0, days=s_.expires_days) for s_ in active)
    found = named_after(session, names, start, newest, since=oldest)  # (older ones are too old to ask)
    holders = _living(session, [e.customer_id for e in found])
    for event in found:
        if event.customer_id not in holders:
            continue  # erased since
        for survey in active:
            if (event.event != survey.trigger_event or event.id <= survey.seen_event_id - RESCAN
                    or event.id <= survey.trigger_start_id
                    or not _matches(survey.trigger_condition, event) or not _sampled(survey, event.message_id)):
                continue
            due = event.timestamp + timedelta(minutes=survey.trigger_delay_minutes or 0)
            if due + timedelta(days=survey.expires_days) <= now:
                continue  # too old to ask about now
            properties = event.properties
            rows.append({"survey_id": survey.id, "version": survey.version,
                         "customer_id": holders[event.customer_id],
                         "cause": event.message_id, "order_id": _text(properties.get("order_id")),
                         "channel": event.channel, "branch": _text(properties.get("branch")),
                         "employee": _text(properties.get("employee")), "delivered_via": survey.channel,
                         "created_at": now, "due_at": due,
                         "expires_at": due + timedelta(days=survey.expires_days)})
    for survey in active:
        survey.seen_event_id = max(survey.seen_event_id, newest)
    before = session.scalar(select(func.count()).select_from(Invitation)) or 0
    for first in range(0, len(rows), BATCH):
        insert_ignore(session, Invitation, rows[first:first + BATCH], index=("survey_id", "cause"))
    return (session.scalar(select(func.count()).select_from(Invitation)) or 0) - before


def _living(session: Session, customer_ids: list[str]) -> dict[str, str]:
    """Each customer that still exists, with the one holding it now (itself, or the survivor of a merge)."""
    from cherish.customers import service as customers

    ids = sorted(set(customer_ids))
    held: dict[str, str] = {}
    for first in range(0, len(ids), 500):
        held.update(customers.survivors(session, ids[first:first + 500]))
    erased = customers.erased_among(session, list(set(held.values())))
    return {cid: holder for cid, holder in held.items() if holder not in erased}


def send_due(session: Session, settings: Settings, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Hand the invitations whose time has come to the contact policy; how many were decided."""
    now = now or utcnow()
    due = list(session.scalars(select(Invitation).where(
        Invitation.contact_key.is_(None), Invitation.customer_id.is_not(None), Invitation.answered_at.is_(None),
        Invitation.due_at <= now).order_by(Invitation.due_at, Invitation.id).limit(limit)
        .with_for_update(skip_locked=True)))
    return _ask(session, settings, due, now, reminder=False)


def remind_due(session: Session, settings: Settings, *, now: datetime | None = None) -> int:
    """Send the one reminder of each invitation that went out ``reminder_days`` ago and is still unanswered."""
    now = now or utcnow()
    waiting = list(session.execute(
        select(Invitation, Survey.reminder_days).join(Survey, Survey.id == Invitation.survey_id)
        .where(Invitation.contact_key.is_not(None), Invitation.contact_key != "-", Invitation.answered_at.is_(None),
               Invitation.reminded_at.is_(None), Invitation.expires_at > now, Survey.reminder_days.is_not(None),
               Survey.status == "active", Invitation.due_at <= now - timedelta(days=1))
        .order_by(Invitation.id)))
    sent = sent_times(session, [i.contact_key for i, _ in waiting if i.contact_key])
    ready = [i for i, days in waiting
             if i.contact_key in sent and sent[i.contact_key] <= now - timedelta(days=days or 0)]
    done = 0
    for first in range(0, len(ready), BATCH):
        done += _ask(session, settings, ready[first:first + BATCH], now, reminder=True)
    return done


def _ask(session: Session, settings: Settings, invitations: list[Invitation], now: datetime, *,
         reminder: bool) -> int:
    if not invitations:
        return 0
    found = {s.id: s for s in session.scalars(select(Survey).where(
        Survey.id.in_({i.survey_id for i in invitations})))}
    messages, asked = [], []
    for invitation in invitations:
        survey = found[invitation.survey_id]
        if invitation.expires_at <= now or survey.status != "active":
            invitation.contact_key = invitation.contact_key or "-"  # (never sent: expired or paused meanwhile)
            if reminder:
                invitation.reminded_at = now
            continue
        wording = surveys.version(session, survey.id, invitation.version)
        key = f"survey_{invitation.id}" + ("_reminder" if reminder else "")
        topic = ("survey reminder: " if reminder else SURVEY_TOPIC + " ") + survey.name
        messages.append(Message(customer_id=invitation.customer_id or "", purpose="feedback",
                                channel=survey.channel, topic=topic, key=key, expires_at=invitation.expires_at,
                                content=content(settings, survey, wording, token_for(session, invitation.id),
                                                reminder=reminder)))
        asked.append(invitation)
    made = reach_out(session, settings, messages, now=now) if messages else []
    for invitation, contact in zip(asked, made, strict=True):
        if reminder:
            invitation.reminded_at = now
        else:
            invitation.contact_key = contact.key
    return len(invitations)


def invite(session: Session, settings: Settings, survey_id: str, customer_ids: list[str], *,
           order_id: str | None = None, now: datetime | None = None, key: str | None = None) -> list[Invitation]:
    """Ask customers a survey now, by hand (the contact policy still decides); ``key``: a ``cause`` that asks it
    once (one customer: the follow-up of a recovery case)."""
    now = now or utcnow()
    survey = surveys.get(session, survey_id)
    if survey.status != "active":
        raise InvalidInput(f"survey {survey.name!r} is {survey.status}: make it active to invite anyone")
    if not 0 < len(customer_ids) <= 1000:
        raise InvalidInput("invite 1 to 1,000 customers at a time")
    from cherish.customers import service as customers

    survivors = customers.survivors(session, customer_ids)
    missing = [c for c in customer_ids if c not in survivors]
    if missing:
        raise NotFound(f"no customer {missing[0][:60]}")
    if key is not None:
        asked = session.scalar(select(Invitation).where(Invitation.survey_id == survey.id, Invitation.cause == key))
        if asked is not None:
            return [asked]
    made = [Invitation(survey_id=survey.id, version=survey.version, customer_id=survivors[c], cause=key,
                       order_id=order_id, delivered_via=survey.channel, created_at=now, due_at=now,
                       expires_at=now + timedelta(days=survey.expires_days)) for c in customer_ids]
    session.add_all(made)
    session.flush()
    _ask(session, settings, made, now, reminder=False)
    return made


SHARED_PER_HOUR = 20  # answers one address may start through a survey's share link in an hour


def open_for(session: Session, survey_id: str, via: str, now: datetime, address: str | None = None) -> Invitation:
    """A new invitation for someone who came through a share link (who they are is known once they answer); at
    most ``SHARED_PER_HOUR`` an hour from one address (an office or a shop's wifi shares one; a script is stopped)."""
    survey = surveys.get(session, survey_id)
    opened_by = None
    if address:
        key = instance_key(session, "survey_key") or ""
        opened_by = hmac.new(key.encode(), f"share:{address}".encode(), hashlib.sha256).hexdigest()
        recent = session.scalar(select(func.count()).where(
            Invitation.survey_id == survey.id, Invitation.opened_by == opened_by,
            Invitation.created_at > now - timedelta(hours=1))) or 0
        if recent >= SHARED_PER_HOUR:
            raise TooManyAttempts("too many answers from this address through this survey's link; try again later",
                                  retry_after=3600)
    invitation = Invitation(survey_id=survey.id, version=survey.version, customer_id=None, cause=None,
                            delivered_via=via, created_at=now, due_at=now, contact_key="-", opened_by=opened_by,
                            expires_at=now + timedelta(days=survey.expires_days))
    session.add(invitation)
    session.flush()
    return invitation
