"""How the dashboard writes numbers, amounts and dates: one place, registered as Jinja filters.

Locale-neutral on purpose (the dashboard has no locale setting): thousands separated by commas, a point before
the decimals, the ISO currency code after the amount (``1,234.50 USD``), dates as ISO ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape


def number(value: Any, decimals: int = 0) -> str:
    """``2397`` → ``2,397``; ``None`` → ``–``."""
    if value is None or value == "":
        return "–"
    if isinstance(value, int) and not decimals:
        return f"{value:,}"
    try:
        return f"{float(value):,.{decimals}f}"
    except (TypeError, ValueError):
        return str(value)


def money(value: Any, currency: str | None = None) -> str:
    """``1234.5, "USD"`` → ``1,234.50 USD``; without a currency, the amount alone."""
    if value is None or value == "":
        return "–"
    try:
        text = f"{float(value):,.2f}"
    except (TypeError, ValueError):  # a raw event's property, as the sender wrote it
        return f"{value} {currency}" if currency else str(value)
    return f"{text} {currency}" if currency else text


def day(value: date | datetime | str | None) -> Markup:
    """A date as ``YYYY-MM-DD`` that never wraps (the hyphens are non-breaking)."""
    if value is None or value == "":
        return Markup("–")
    text = value if isinstance(value, str) else value.strftime("%Y-%m-%d")
    return Markup('<span class="date">{}</span>').format(escape(text[:10]))


def moment(value: datetime | str | None) -> Markup:
    """A date and time to the minute as ``YYYY-MM-DD HH:MM``, kept on one line."""
    if value is None or value == "":
        return Markup("–")
    text = value[:16].replace("T", " ") if isinstance(value, str) else value.strftime("%Y-%m-%d %H:%M")
    return Markup('<span class="date">{}</span>').format(escape(text))


def register(env: Environment) -> None:
    """Make the formatters available to every dashboard template."""
    env.filters.update(number=number, money=money, day=day, moment=moment)
