"""The fast path of `cherish import` for order lines: whole columns in, bulk writes out.

An orders file is mostly clean, new orders of a few customers each. Those are stored here set-wise: values are
parsed once per distinct value, identifiers resolved once per distinct set (with the same resolver and rules as
live events), and customers, identifiers, events, orders and order lines written with the driver's bulk path.
Everything else — a row with a problem, an order that already exists under another message — is handed back to
the row-by-row path, which has the exact reasons and the update rules. Both paths store the same rows: a test
imports one file both ways and compares the tables. (One difference of order: rows handed back are stored after
their chunk's bulk part, so a customer whose first row was handed back is created from its first clean row.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.db.dialects import bulk_insert_columns, existing_values, reserve_ids
from cherish.events.importer import row_identity, row_time
from cherish.events.messages import InvalidMessage, parse_time
from cherish.events.models import Event, Order, OrderLine
from cherish.identity.normalize import Key, identifiers_from_traits, normalize_plain
from cherish.identity.resolve import IdentityResolver

IDENTITY = ("user_id", "anonymous_id", "email", "phone", "loyalty_id")
NUMBERS = ("price", "quantity", "total", "revenue", "discount")
LINE_FIELDS = ("product_id", "sku", "name", "category", "price", "quantity")
TEXT_FIELDS = ("currency", "coupon", "channel", "branch", "employee")
_BAD = object()  # a value that does not parse: the row goes the row-by-row way


def clean_columns(batch: pa.RecordBatch | pa.Table) -> tuple[dict[str, list[Any]], set[int]]:
    """Every column as a Python list of stripped text, empty text as None (what the row-by-row path does), and
    the rows holding a NUL character anywhere (the row-by-row path rejects them: PostgreSQL cannot store it)."""
    columns = {}
    nul = None
    for name in batch.schema.names:
        column = batch.column(name)
        trimmed = pc.utf8_trim_whitespace(column)
        columns[name] = pc.if_else(pc.equal(trimmed, ""), None, trimmed).to_pylist()
        found = pc.fill_null(pc.match_substring(column, "\x00"), False)
        nul = found if nul is None else pc.or_(nul, found)
    rows = set(pc.indices_nonzero(nul).to_pylist()) if nul is not None and pc.any(nul).as_py() else set()
    return columns, rows


@dataclass
class BulkResult:
    stored_rows: int = 0
    slow_rows: list[int] = field(default_factory=list)  # indices into the chunk, in file order


class _Parsed:
    """Values parsed once per distinct value, with the row-by-row path's own rules; _BAD where they fail."""

    def __init__(self, date_format: str | None) -> None:
        self.date_format = date_format
        self.times: dict[str, Any] = {}
        self.numbers: dict[str, Any] = {}
        self.dates: dict[str, Any] = {}

    @staticmethod
    def _once(cache: dict[str, Any], text: str | None, parse: Callable[[str], Any]) -> Any:
        if text is None:
            return None
        found = cache.get(text)
        if found is None:
            try:
                found = parse(text)
            except (ValueError, InvalidMessage):
                found = _BAD
            cache[text] = found
        return found

    def time(self, text: str) -> Any:
        return self._once(self.times, text, self._time)

    def number(self, text: str | None) -> Any:
        return self._once(self.numbers, text, _finite)

    def day(self, text: str | None) -> Any:
        return self._once(self.dates, text, lambda t: date.fromisoformat(t[:10]))

    def _time(self, text: str) -> tuple[str, datetime]:
        stamp = row_time(text, self.date_format)
        return stamp, parse_time(stamp, "timestamp")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _text(value: str | None, size: int = 200) -> str | None:
    return value[:size] or None if value is not None else None


def store_orders(
    session: Session, settings: Settings, columns: dict[str, list[Any]], mapping: dict[str, str],
    date_format: str | None, received_at: datetime, flush_hook: Callable[[], None] | None = None,
    unusual: set[int] | None = None,
) -> BulkResult:
    """Store the clean new orders of one chunk of order lines; return which rows need the row-by-row path."""
    get = {name: columns[column] for name, column in mapping.items()}
    none = [None] * len(next(iter(columns.values()), []))
    col = {name: get.get(name, none) for name in (*IDENTITY, "order_id", "timestamp", *NUMBERS, "currency", "coupon",
                                                  "channel", "branch", "employee", "status", "product_id", "sku",
                                                  "product_name", "category", "promised_delivery_date")}
    extras = {name: values for name, values in columns.items() if name not in set(mapping.values())}
    parsed = _Parsed(date_format)
    result = BulkResult()
    orders: dict[str, dict[str, Any]] = {}
    bad_orders: set[str] = set()
    identity_columns = [col[n] for n in IDENTITY]
    number, day, time = parsed.number, parsed.day, parsed.time
    extra_names, extra_values = list(extras), list(extras.values())
    fields = zip(col["order_id"], col["timestamp"], zip(*identity_columns), col["price"], col["quantity"],
                 col["total"], col["revenue"], col["discount"], col["promised_delivery_date"],
                 zip(*(col[name] for name in TEXT_FIELDS)),
                 col["product_id"], col["sku"], col["product_name"], col["category"], strict=True)
    no_one = (None, None, None, None, None)
    for i, (order_id, stamp, who, price, quantity, total, revenue, discount, promised, texts, product_id, sku,
            product_name, category) in enumerate(fields):
        if order_id is None or stamp is None or who == no_one or (unusual and i in unusual):
            result.slow_rows.append(i)
            if order_id is not None:
                bad_orders.add(order_id)
            continue
        when = time(stamp)
        price, quantity, total, revenue, discount = (number(price), number(quantity), number(total),
                                                     number(revenue), number(discount))
        if (when is _BAD or price is _BAD or quantity is _BAD or total is _BAD or revenue is _BAD
                or discount is _BAD or day(promised) is _BAD or order_id in bad_orders):
            bad_orders.add(order_id)
            continue
        order = orders.get(order_id)
        if order is None:
            order = orders[order_id] = {"rows": [], "who": who, "when": when, "props": {"order_id": order_id},
                                        "products": [], "lines": []}
        order["rows"].append(i)
        props = order["props"]
        for name, value in (("total", total), ("revenue", revenue), ("discount", discount)):
            if value is not None:
                props[name] = value
        if texts != no_one:
            for name, value in zip(TEXT_FIELDS, texts):  # noqa: B905 — both have five
                if value is not None:
                    props[name] = value
        if promised is not None:
            props["promised_delivery_date"] = promised
        if product_id is not None or sku is not None or product_name is not None or price is not None:
            product = {"product_id": product_id, "sku": sku, "name": product_name, "category": category,
                       "price": price, "quantity": 1 if quantity is None else quantity}
            if extra_names:
                for name, values in zip(extra_names, extra_values, strict=True):
                    if values[i] is not None:
                        product[name] = values[i]
            order["products"].append(product)
            order["lines"].append((_text(product_id), _text(sku), _text(product_name, 300), _text(category), price,
                                   1.0 if quantity is None else quantity))
    slow = set(result.slow_rows)
    for order_id in bad_orders:  # every line of an order with a problem goes the row-by-row way
        order = orders.pop(order_id, None)
        if order is not None:
            slow.update(order["rows"])
    if bad_orders:
        slow.update(i for i, order_id in enumerate(col["order_id"]) if order_id in bad_orders)
    result.slow_rows = sorted(slow)
    if not orders:
        return result
    message_ids = {order_id: f"import-order-{order_id}"[:200] for order_id in orders}
    already = existing_values(session, Event.__table__.c.message_id, list(message_ids.values()))
    taken = existing_values(session, Order.__table__.c.order_id, [o[:200] for o in orders])
    for order_id in list(orders):
        if message_ids[order_id] in already:  # imported before: stored once, however often it comes
            result.stored_rows += len(orders.pop(order_id)["rows"])
        elif order_id.strip()[:200] in taken:  # an order known from another event: the update rules apply
            result.slow_rows.extend(orders.pop(order_id)["rows"])
    result.slow_rows.sort()
    if not orders:
        return result
    # identifiers: once per distinct set, in the order the file first shows them
    identities: dict[tuple[Any, ...], dict[str, Any]] = {}
    for order in orders.values():
        found = identities.get(order["who"])
        if found is None:
            ids, traits = row_identity(dict(zip(IDENTITY, order["who"], strict=True)))
            keys: list[Key] = [(kind, value) for kind, value in
                               (("user_id", normalize_plain(ids.get("userId"))),
                                ("anonymous_id", normalize_plain(ids.get("anonymousId")))) if value is not None]
            keys.extend(identifiers_from_traits(traits, settings))
            found = identities[order["who"]] = {"ids": ids, "traits": traits, "keys": keys,
                                                "first": order["when"][1], "last": order["when"][1],
                                                "when": order["when"][1], "message_id": message_ids[order["props"]["order_id"]]}
        found["first"] = min(found["first"], order["when"][1])
        found["last"] = max(found["last"], order["when"][1])
    resolver = IdentityResolver(session, settings, flush_pending=flush_hook or (lambda: None))
    resolver.prefetch(k for identity in identities.values() for k in identity["keys"])
    for identity in identities.values():
        identity["customer"] = resolver.resolve(identity["keys"], when=identity["when"],
                                                message_id=identity["message_id"])
        resolver.widen(identity["customer"], identity["keys"], identity["first"], identity["last"])
    resolver.flush()
    _write(session, settings, orders, identities, message_ids, resolver, received_at)
    result.stored_rows += sum(len(order["rows"]) for order in orders.values())
    return result


def _write(session: Session, settings: Settings, orders: dict[str, dict[str, Any]],
           identities: dict[tuple[Any, ...], dict[str, Any]], message_ids: dict[str, str],
           resolver: IdentityResolver, received_at: datetime) -> None:
    events: dict[str, list[Any]] = {n: [] for n in ("message_id", "customer_id", "type", "event", "channel",
                                                    "timestamp", "received_at", "identifiers", "payload")}
    rows: dict[str, list[Any]] = {n: [] for n in ("id", "order_id", "customer_id", "status", "value", "refunded",
                                                  "currency", "discount", "coupon", "channel", "branch", "employee",
                                                  "placed_at", "promised_delivery_date", "updated_at")}
    lines: dict[str, list[Any]] = {n: [] for n in ("order_pk", "product_id", "sku", "name", "category", "price",
                                                   "quantity")}
    pks = reserve_ids(session, Order.__table__, len(orders))
    received = received_at.astimezone(UTC).replace(tzinfo=None)
    for pk, (order_id, order) in zip(pks, orders.items(), strict=True):
        identity = identities[order["who"]]
        customer = resolver.current(identity["customer"])
        props = dict(order["props"])
        if order["products"]:
            props["products"] = order["products"]
        stamp, when = order["when"]
        message = {"type": "track", "event": "Order Completed", **identity["ids"], "timestamp": stamp,
                   "properties": props}
        if identity["traits"]:
            message["context"] = {"traits": identity["traits"]}
        message["messageId"] = message_ids[order_id]
        channel = props.get("channel")
        channel = channel.lower()[:40] or None if channel else None
        naive = when.replace(tzinfo=None)
        for name, value in (("message_id", message_ids[order_id]), ("customer_id", customer), ("type", "track"),
                            ("event", "Order Completed"), ("channel", channel), ("timestamp", naive),
                            ("received_at", received),
                            ("identifiers", orjson.dumps([f"{k}:{v}" for k, v in identity["keys"]]).decode()),
                            ("payload", orjson.dumps(message).decode())):
            events[name].append(value)
        amount = props.get("total")
        if amount is None:
            amount = props.get("revenue")
        if amount is None and order["lines"]:
            amount = sum((price or 0.0) * quantity for *_, price, quantity in order["lines"])
        currency = _text(props.get("currency"), 3)
        promised = props.get("promised_delivery_date")
        for name, value in (("id", pk), ("order_id", order_id.strip()[:200]), ("customer_id", customer),
                            ("status", "completed"), ("value", 0.0 if amount is None else amount), ("refunded", 0.0),
                            ("currency", currency.upper() if currency else settings.currency),
                            ("discount", props.get("discount")), ("coupon", _text(props.get("coupon"))),
                            ("channel", channel), ("branch", _text(props.get("branch"))),
                            ("employee", _text(props.get("employee"))), ("placed_at", naive),
                            ("promised_delivery_date", date.fromisoformat(promised[:10]) if promised else None),
                            ("updated_at", naive)):
            rows[name].append(value)
        for line in order["lines"]:
            lines["order_pk"].append(pk)
            for name, value in zip(LINE_FIELDS, line, strict=True):
                lines[name].append(value)
    bulk_insert_columns(session, Event.__table__, events)
    bulk_insert_columns(session, Order.__table__, rows)
    bulk_insert_columns(session, OrderLine.__table__, lines)
