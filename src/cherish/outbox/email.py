"""Email over SMTP: plain text and HTML, with one-click unsubscribe (RFC 8058) when the message is not a service
message."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from typing import Any

from cherish.config import Settings
from cherish.errors import Unavailable


def build(settings: Settings, key: str, body: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_sender
    message["To"] = body["to"]
    message["Subject"] = " ".join(str(body.get("subject") or "").split())[:300]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=key.replace("_", "")[:40], domain="cherish.local")
    message["X-Cherish-Message"] = key  # the same on every attempt: a receiving system can drop a repeat
    if body.get("unsubscribe"):
        message["List-Unsubscribe"] = f"<{body['unsubscribe']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = str(body.get("text") or "")
    if body.get("unsubscribe"):
        text += f"\n\n--\nTo stop these emails: {body['unsubscribe']}\n"
    message.set_content(text)
    if body.get("html"):
        html = str(body["html"])
        if body.get("unsubscribe"):
            html += f'<p style="font-size:12px;color:#555"><a href="{escape(body["unsubscribe"])}">Unsubscribe</a></p>'
        message.add_alternative(html, subtype="html")
    return message


def send_email(settings: Settings, key: str, body: dict[str, Any]) -> None:
    if not settings.smtp_host:
        raise Unavailable("no SMTP server is set (CHERISH_SMTP_HOST)")
    message = build(settings, key, body)
    timeout = settings.outbox_timeout
    client: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        client.send_message(message)
