"""Slack-compatible incoming-webhook messages for team alerts: ``text`` (the notification) and ``blocks``.

Customer text is untrusted: ``&``, ``<`` and ``>`` are escaped as Slack asks, so a comment cannot mention
@channel, link anywhere or break the message's formatting."""

from __future__ import annotations

from typing import Any


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _feedback(data: dict[str, Any]) -> str:
    kind = str(data.get("score_type") or "feedback").upper()
    score = data.get("score")
    score_text = f"{score:g}" if isinstance(score, int | float) else "?"
    where = ", ".join(escape(str(data[k])) for k in ("channel", "branch", "employee") if data.get(k))
    line = f"*{kind} {score_text}*" + (f" ({where})" if where else "")
    comment = data.get("comment")
    return line + (f"\n> {escape(str(comment))[:2000]}" if comment else "")


def _consent(data: dict[str, Any]) -> str:
    return (f"Consent for *{escape(str(data.get('purpose')))}* on {escape(str(data.get('channel')))}: "
            f"{escape(str(data.get('status')))}")


def message(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """The Slack message for a domain event."""
    if event_type == "feedback.received":
        text = _feedback(data)
    elif event_type == "consent.changed":
        text = _consent(data)
    elif event_type == "survey.rewards_low":
        text = (f"*{escape(str(data.get('survey')))}*: {escape(str(data.get('codes_left')))} reward codes left "
                "(add more with POST /api/surveys/{id}/rewards)")
    else:
        text = f"cherish: {escape(event_type)}"
    customer = data.get("customer_id")
    context = [{"type": "mrkdwn", "text": f"{escape(event_type)} · customer {escape(str(customer))}"}] if customer \
        else [{"type": "mrkdwn", "text": escape(event_type)}]
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                                     {"type": "context", "elements": context}]}
