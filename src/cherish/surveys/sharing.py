"""A survey shared anywhere: its link, the link as a QR code (SVG, drawn by segno) and a snippet for a web page."""

from __future__ import annotations

import io
from html import escape
from typing import Any

import segno
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.surveys import service as surveys
from cherish.surveys.invitations import page_url, share_token


def share(session: Session, settings: Settings, survey_id: str, via: str) -> dict[str, Any]:
    """The share link for ``via`` (link, qr, embed, sms, receipt: kept with each answer as where it came from)."""
    survey = surveys.get(session, survey_id)
    url = page_url(settings, share_token(session, survey.id, via))
    embed_url = page_url(settings, share_token(session, survey.id, "embed"))
    title = surveys.version(session, survey.id, survey.version).title
    snippet = (f'<iframe src="{escape(embed_url)}" title="{escape(title)}" loading="lazy" '
               f'style="border:0;width:100%;max-width:640px;height:720px"></iframe>')
    return {"via": via, "url": url, "embed": snippet,
            "qr_svg": f"{settings.public_url.rstrip('/')}/api/surveys/{survey.id}/share.svg?via=qr"}


def qr_svg(url: str) -> str:
    """``url`` as a QR code: an SVG with a title, dark on light, with the quiet zone readers need."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=4, title="Survey link",
                                    dark="#000", light="#fff", xmldecl=False)
    return buffer.getvalue().decode()
