"""One-click unsubscribe (RFC 8058): a signed link per message that denies consent for its purpose and channel."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from cherish.access.service import instance_key
from cherish.config import Settings
from cherish.customers import service as customers
from cherish.errors import NotFound

_SALT = "cherish-unsubscribe"


def _signer(session: Session, *, create: bool = True) -> URLSafeSerializer | None:
    """Links are signed with a key of their own, kept in the store: rotating the sessions' key
    (``CHERISH_SECRET_KEY``) must not break every link already mailed."""
    key = instance_key(session, "unsubscribe_key", create=create)
    return URLSafeSerializer(key, salt=_SALT) if key else None


def link(session: Session, settings: Settings, customer_id: str, purpose: str, channel: str) -> str:
    """The unsubscribe link for a message: it never expires (an old email's link must still work)."""
    signer = _signer(session)
    assert signer is not None
    token = signer.dumps([customer_id, purpose, channel])
    return f"{settings.public_url.rstrip('/')}/u/{token}"


def read(session: Session, settings: Settings, token: str) -> tuple[str, str, str]:
    """(customer, consent purpose, channel) of a token, or NotFound for one cherish did not sign."""
    signer = _signer(session, create=False)  # (read in a reading session: nothing is made here)
    try:
        if signer is None:
            raise BadSignature("no link was ever made")
        customer_id, purpose, channel = signer.loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("this unsubscribe link is not one cherish made") from None
    return str(customer_id), str(purpose), str(channel)


def unsubscribe(session: Session, settings: Settings, token: str) -> tuple[str, str]:
    """Deny consent for the token's purpose on its channel (source ``unsubscribe``); (purpose, channel)."""
    customer_id, purpose, channel = read(session, settings, token)
    survivor = customers.survivor_of(session, customer_id)  # (None for one erased since: nothing to record)
    if survivor is not None:
        customers.set_consent(session, survivor, [{"purpose": purpose, "channel": channel, "status": "denied"}],
                              source="unsubscribe")
    return purpose, channel
