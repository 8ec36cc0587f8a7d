"""The demo company's surveys: an NPS survey two days after each delivery and a CSAT survey two hours after half of
the chats with the service team, read from the demo's events as the worker's ``surveys`` job reads them, so that
its outbox and contact log hold the invitations of the last two weeks."""

from __future__ import annotations

from typing import Any

from cherish.config import Settings
from cherish.db.engine import Store
from cherish.surveys import invitations
from cherish.surveys import service as surveys

SURVEYS: list[dict[str, Any]] = [
    {"name": "after delivery", "title": "How was your order?",
     "intro": "Thank you for shopping with us. Two questions, one minute.",
     "questions": [{"type": "nps"}, {"type": "text", "text": "What is the main reason for your score?"},
                   {"id": "on_time", "type": "single", "text": "Did it arrive when we said?",
                    "choices": ["Yes", "No, late", "Not sure"]}],
     "trigger": {"event": "Order Delivered", "after": "2d"}, "reminder_days": 3,
     "thank_you": "Thank you: we read every answer, and yours goes to the people who pack and send your order."},
    {"name": "after support", "title": "How did we do?",
     "questions": [{"type": "csat"}, {"type": "text", "text": "What could we have done better?"}],
     "trigger": {"event": "Support Contact", "after": "2h", "condition": {"channel": "chat"}}, "sampling": 0.5,
     "reminder_days": None},
]


def ask(store: Store, settings: Settings) -> int:
    """Make the demo's surveys (once) and send what their triggers ask; how many invitations were decided."""
    with store.write() as session:
        names = {s.name for s in surveys.surveys(session)}
        for definition in SURVEYS:
            if definition["name"] not in names:
                surveys.create(session, dict(definition), backfill=True)  # the demo's last two weeks
        invitations.notice(session)
    decided = 0
    while True:
        with store.write() as session:
            done = invitations.send_due(session, settings)
        decided += done
        if not done:
            return decided
