"""One line for each thing on a customer's timeline, and for each trait: what an agent reads at a glance.

Plain text (customer-written text among it), escaped where it is shown like every other value.
"""

from __future__ import annotations

from typing import Any

COMMENT = 160  # characters of a comment shown on its line
_ADDRESS = ("street", "street2", "city", "state", "postalCode", "postal_code", "zip", "country")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _money(properties: dict[str, Any]) -> str | None:
    for name in ("total", "revenue", "value"):
        amount = properties.get(name)
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            currency = _text(properties.get("currency")) or ""
            return f"{amount:,.2f} {currency}".strip()
    return None


def _feedback(properties: dict[str, Any]) -> str:
    kind, score = _text(properties.get("score_type")), _text(properties.get("score"))
    parts = [f"{kind.upper()} {score}" if kind and score else kind or score or "answer"]
    comment = _text(properties.get("comment"))
    if comment:
        parts.append(f"“{_clip(' '.join(comment.split()), COMMENT)}”")
    return " · ".join(parts)


def _order(properties: dict[str, Any]) -> str:
    parts = [_text(properties.get("order_id"))]
    products = properties.get("products")
    if isinstance(products, list) and products:
        parts.append(f"{len(products)} item{'s' if len(products) != 1 else ''}")
    parts.append(_money(properties))
    return " · ".join(p for p in parts if p)


def _product(properties: dict[str, Any]) -> str:
    name = _text(properties.get("name")) or _text(properties.get("sku")) or _text(properties.get("product_id"))
    price = properties.get("price")
    if name and isinstance(price, int | float) and not isinstance(price, bool):
        return f"{name} · {price:,.2f}"
    return name or ""


def _page(properties: dict[str, Any]) -> str:
    return _text(properties.get("title")) or _text(properties.get("name")) or _text(properties.get("path")) or \
        _text(properties.get("url")) or ""


def _traits(properties: dict[str, Any]) -> str:
    names = [name for name in properties if isinstance(name, str)]
    return ("traits: " + ", ".join(names[:6]) + (" …" if len(names) > 6 else "")) if names else ""


def _generic(properties: dict[str, Any]) -> str:
    shown = []
    for name, value in properties.items():
        text = _text(value)
        if text is not None and name not in ("channel", "branch", "employee"):
            shown.append(f"{name}: {_clip(text, 40)}")
        if len(shown) == 3:
            break
    return " · ".join(shown)


def timeline_line(kind: str, event: str | None, properties: dict[str, Any]) -> str:
    """The gist of a timeline item: a survey's score and comment, an order's number and value, a product's name,
    a page's title, the traits an identify call set, or the first few properties of anything else."""
    if event == "Feedback Submitted":
        return _feedback(properties)
    if kind == "order":
        return _order(properties)
    if event and event.startswith("Product "):
        return _product(properties)
    if kind in ("page", "screen"):
        return _page(properties)
    if kind == "identify":
        return _traits(properties)
    return _generic(properties)


def trait_text(value: Any) -> str:
    """A trait as a person would write it: an address on one line, a list joined, other objects as key: value."""
    if isinstance(value, dict):
        if any(k in value for k in _ADDRESS):
            parts = [_text(value.get(k)) for k in _ADDRESS]
            return ", ".join(dict.fromkeys(p for p in parts if p))
        return ", ".join(f"{k}: {trait_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(trait_text(v) for v in value)
    return "" if value is None else str(value)
