"""Orders from Segment's e-commerce events: one order per order_id, updated by later events, never duplicated."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from cherish.db.base import table_of
from cherish.db.dialects import bulk_insert_columns, existing_values, reserve_ids
from cherish.events.models import Order, OrderLine


class InvalidOrder(ValueError):
    pass


# Larger values are typing or unit mistakes (cents sent as a quantity, an overflowed counter) that would swamp every
# sum and average they enter; they are rejected like any other invalid value.
MAX_AMOUNT = 1e12
MAX_QUANTITY = 1e9
MAX_ORDER_ID = 200  # the orders table's order_id column: a longer one would be cut, and two orders become one


def amount_problem(name: str, number: float) -> str | None:
    """Why ``number`` cannot be the ``name`` (price, quantity, total…) of an order, or None when it can."""
    if number < 0:
        return f"{name} must not be negative (a refund is an Order Refunded event)"
    limit = MAX_QUANTITY if name.endswith("quantity") else MAX_AMOUNT
    if number > limit:
        return f"{name} {number:g} is larger than {limit:g}: not a plausible value"
    return None


def order_id_problem(value: Any) -> str | None:
    """Why ``value`` cannot be kept exactly as an order id, or None when it can."""
    if isinstance(value, float):
        return f"order_id {value!r} is a number that cannot be kept exactly: send it as a string"
    if len(str(value).strip()) > MAX_ORDER_ID:
        return f"order_id is longer than {MAX_ORDER_ID} characters"
    return None


class BadNumber(ValueError):
    """Why a value cannot be one of an order's numbers; the message names the field."""


def number_of(value: Any, name: str) -> float | None:
    """An order's number (price, quantity, total, revenue, discount) as every path reads it: messages, the row
    import and the bulk import. None for nothing; else a finite number, not negative and not implausibly large, or
    BadNumber saying why."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadNumber(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadNumber(f"{name} must be a number, not {str(value)[:30]!r}") from None
    if 0.0 <= number <= (MAX_QUANTITY if name.endswith("quantity") else MAX_AMOUNT):  # the usual case, in one test
        return number
    if not math.isfinite(number):
        raise BadNumber(f"{name} must be a finite number, not {str(value)[:30]!r}")
    raise BadNumber(amount_problem(name, number) or f"{name} is out of range")


def _number(properties: dict[str, Any], name: str) -> float | None:
    try:
        return number_of(properties.get(name), f"properties.{name}")
    except BadNumber as exc:
        raise InvalidOrder(str(exc)) from None


def text_of(value: Any, size: int = 200) -> str | None:
    """A text property as stored: trimmed, cut to its column's ``size``; None for nothing, a list or an object."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:size] or None


def currency_code(value: Any) -> str | None:
    """An ISO 4217 code as sent (``eur`` is ``EUR``); None when none was sent (the business currency applies)."""
    code = text_of(value, 3)
    return code.upper() if code else None


@dataclass(slots=True)
class OrderFacts:
    """What one order event says about its order, validated."""

    event: str
    order_id: str
    amount: float | None  # total, else revenue, else the sum of the products
    currency: str | None
    discount: float | None
    coupon: str | None
    lines: list[dict[str, Any]] | None
    promised: date | None
    branch: str | None
    employee: str | None


def read_order(event: str, properties: dict[str, Any]) -> OrderFacts:
    """Validate the properties of an order event."""
    problem = order_id_problem(properties["order_id"])
    if problem:
        raise InvalidOrder(f"properties.{problem}")
    lines: list[dict[str, Any]] | None = None
    products = properties.get("products")
    if products is not None:
        if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
            raise InvalidOrder("properties.products must be a list of objects")
        lines = []
        for i, product in enumerate(products):
            try:
                price = _number(product, "price")
                quantity = _number(product, "quantity")
            except InvalidOrder as exc:
                raise InvalidOrder(f"properties.products[{i}]: {str(exc).removeprefix('properties.')}") from None
            lines.append({
                "product_id": text_of(product.get("product_id")), "sku": text_of(product.get("sku")),
                "name": text_of(product.get("name"), 300), "category": text_of(product.get("category")),
                "price": price, "quantity": 1.0 if quantity is None else quantity,
            })
    lines_total = sum((line["price"] or 0.0) * line["quantity"] for line in lines) if lines else None
    amount = order_value(lambda name: _number(properties, name), lines_total, refund=event == "Order Refunded")
    promised = None
    raw_promise = properties.get("promised_delivery_date")
    if raw_promise is not None:
        try:
            promised = date.fromisoformat(str(raw_promise)[:10])
        except ValueError:
            raise InvalidOrder("properties.promised_delivery_date must be a date (YYYY-MM-DD)") from None
    return OrderFacts(
        event=event, order_id=str(properties["order_id"]).strip(), amount=amount,
        currency=currency_code(properties.get("currency")), discount=_number(properties, "discount"),
        coupon=text_of(properties.get("coupon")), lines=lines, promised=promised,
        branch=text_of(properties.get("branch")), employee=text_of(properties.get("employee")),
    )


@dataclass(slots=True)
class OrderEvent:
    facts: OrderFacts
    customer_id: str
    timestamp: datetime
    channel: str | None


def _apply(order: dict[str, Any], op: OrderEvent, currency: str) -> None:
    facts, when = op.facts, op.timestamp
    if facts.event == "Order Completed":
        order.update(customer_id=op.customer_id, placed_at=when, channel=op.channel or order.get("channel"))
        if order.get("status") in (None, "completed"):
            order["status"] = "completed"
        if facts.amount is not None:
            order["value"] = facts.amount
        order["currency"] = facts.currency or order.get("currency") or currency
        for name in ("discount", "coupon", "branch", "employee"):
            if getattr(facts, name) is not None:
                order[name] = getattr(facts, name)
        if facts.promised is not None:
            order["promised_delivery_date"] = facts.promised
    elif facts.event == "Order Refunded":
        value = order.get("value") or 0.0
        refunded = (order.get("refunded") or 0.0) + (facts.amount if facts.amount is not None else value)
        order["refunded"] = min(refunded, value) if value else refunded
        order["status"] = "refunded" if facts.amount is None or order["refunded"] >= value else "partially_refunded"
    elif facts.event == "Order Cancelled":
        order["status"] = "cancelled"
    elif facts.event == "Order Shipped":
        order["shipped_at"] = when
    elif facts.event == "Order Delivered":
        order["delivered_at"] = when
    order["updated_at"] = max(order.get("updated_at") or when, when)


_FIELDS = ("customer_id", "status", "value", "refunded", "currency", "discount", "coupon", "channel", "branch",
           "employee", "placed_at", "promised_delivery_date", "shipped_at", "delivered_at", "updated_at")


def order_value(read: Callable[[str], float | None], lines_total: float | None, *,
                refund: bool = False) -> float | None:
    """An order's value, one rule for every path: its ``total``, else its ``revenue``, else (a refund's) ``value``,
    else the sum of its lines. ``read`` gives a property as a number (None when it was not sent); a property is
    read only when those before it were not sent, so that a bad value nobody needs rejects nothing."""
    for name in ("total", "revenue", "value") if refund else ("total", "revenue"):
        amount = read(name)
        if amount is not None:
            return amount
    return lines_total


LINE_FIELDS = ("product_id", "sku", "name", "category", "price", "quantity")  # an order line, as stored


def apply_order_events(session: Session, ops: list[OrderEvent], *, currency: str) -> None:
    """Create or update the orders that ``ops`` speak of, in the order the events came."""
    if not ops:
        return
    existing = _known_orders(session, list({op.facts.order_id for op in ops}))
    fresh: dict[str, dict[str, Any]] = {}
    new_lines: dict[str, list[dict[str, Any]]] = {}
    for op in ops:
        order_id = op.facts.order_id
        order = existing.get(order_id) or fresh.get(order_id)
        if order is None:
            order = fresh[order_id] = {
                "order_id": order_id, "customer_id": op.customer_id, "status": None, "value": 0.0, "refunded": 0.0,
                "currency": currency, "placed_at": op.timestamp, "channel": op.channel,
            }
        _apply(order, op, currency)
        if order["status"] is None:  # a shipment or delivery before the order itself
            order["status"] = "pending"
        if op.facts.event == "Order Completed" and op.facts.lines is not None:
            new_lines[order_id] = op.facts.lines
    if fresh:  # written through the driver's bulk path, with their keys drawn first for the lines to point to
        for pk, order in zip(reserve_ids(session, Order.__table__, len(fresh)), fresh.values(), strict=True):
            order["id"] = pk
        bulk_insert_columns(session, Order.__table__, {
            "id": [v["id"] for v in fresh.values()], "order_id": list(fresh),
            **{f: [v.get(f) for v in fresh.values()] for f in _FIELDS}})
    if existing:
        changed = [{"pk": v["id"], **{f"b_{f}": v[f] for f in _FIELDS}} for v in existing.values()]
        table = table_of(Order)
        session.execute(
            update(table).where(table.c.id == bindparam("pk")).values({f: bindparam(f"b_{f}") for f in _FIELDS}),
            changed,
        )
    if new_lines:
        _write_lines(session, new_lines, {k: (existing.get(k) or fresh[k])["id"] for k in new_lines},
                     [k for k in new_lines if k in existing])


def _known_orders(session: Session, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored orders among ``order_ids``, by order id. Most orders are new: which ones are known is asked
    through the driver, and only those are loaded."""
    wanted = list(existing_values(session, Order.__table__.c.order_id, order_ids))
    existing: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        for row in session.execute(select(Order).where(Order.order_id.in_(wanted[start : start + 500]))).scalars():
            existing[row.order_id] = {"id": row.id, **{f: getattr(row, f) for f in _FIELDS}}
    return existing


def _write_lines(session: Session, new_lines: dict[str, list[dict[str, Any]]], pks: dict[str, int],
                 replacing: list[str]) -> None:
    """The lines of completed orders (by order id), replacing those stored for the orders in ``replacing``."""
    replaced = [pks[k] for k in replacing]
    if replaced:
        session.execute(delete(OrderLine).where(OrderLine.order_pk.in_(replaced)))
    rows = [(pks[k], line) for k, lines in new_lines.items() for line in lines]
    bulk_insert_columns(session, OrderLine.__table__, {
        "order_pk": [pk for pk, _ in rows], **{f: [line[f] for _, line in rows] for f in LINE_FIELDS}})
