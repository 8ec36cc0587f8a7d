"""The fast path of `cherish import` for order lines: whole columns in, bulk writes out.

An orders file is mostly clean, new orders of a few customers each. Those are stored here set-wise: the chunk
stays in Arrow columns, each distinct value is parsed once (with the row-by-row path's own rules), lines are
grouped into orders by sorting their codes rather than row by row, identifiers are resolved once per distinct
set (with the same resolver and rules as live events), and customers, identifiers, events, orders and order lines
are written with the driver's bulk path. Everything else — a row with a problem, an order that already exists
under another message — is handed back to the row-by-row path, which has the exact reasons and the update rules.
Both paths store the same rows: a test imports one file both ways and compares the tables. (One difference of
order: rows handed back are stored after their chunk's bulk part, so a customer whose first row was handed back
is created from its first clean row.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.customers.traits import ProfileRows
from cherish.db.dialects import bulk_insert_columns, existing_values, reserve_ids
from cherish.events.import_rows import (
    NAME_FIELDS,
    NUMBER_FIELDS,
    check_identifier,
    order_message_id,
    row_identity,
    row_time,
)
from cherish.events.messages import InvalidMessage, channel_name, parse_time, plausible_promise, plausible_time
from cherish.events.models import Event, Order, OrderLine
from cherish.events.orders import (
    LINE_FIELDS,
    currency_code,
    number_of,
    order_id_problem,
    order_value,
    text_of,
)
from cherish.identity.normalize import Key, identifiers_from_traits, normalize_plain
from cherish.identity.resolve import IdentityResolver

IDENTITY = ("user_id", "anonymous_id", "email", "phone", "loyalty_id")
PERSON = (*IDENTITY, *NAME_FIELDS)  # what a row says of its customer
NUMBERS = NUMBER_FIELDS
TEXT_FIELDS = ("currency", "coupon", "channel", "branch", "employee")
_BAD = object()  # a value that does not parse: the row goes the row-by-row way


def clean_columns(batch: pa.RecordBatch | pa.Table) -> tuple[pa.Table, set[int]]:
    """Every column as stripped text, empty text as null (what the row-by-row path does), and the rows holding
    a NUL character anywhere (the row-by-row path rejects them: PostgreSQL cannot store it)."""
    arrays = []
    nul = None
    for name in batch.schema.names:
        column = batch.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        trimmed = pc.utf8_trim_whitespace(column)
        arrays.append(pc.if_else(pc.equal(trimmed, ""), None, trimmed))
        found = pc.fill_null(pc.match_substring(column, "\x00"), False)
        nul = found if nul is None else pc.or_(nul, found)
    rows = set(pc.indices_nonzero(nul).to_pylist()) if nul is not None and pc.any(nul).as_py() else set()
    return pa.Table.from_arrays(arrays, names=batch.schema.names), rows  # (pa.table would import pandas)


@dataclass
class BulkResult:
    stored_rows: int = 0
    already_rows: int = 0  # rows of orders an earlier import stored
    slow_rows: list[int] = field(default_factory=list)  # indices into the chunk, in file order


class _Column:
    """A text column as its distinct values (``None`` last) and each row's code into them; parsed once per
    distinct value, ``_BAD`` where the row-by-row path would reject the value."""

    def __init__(self, column: pa.Array | None, rows: int) -> None:
        if column is None:
            self.values: list[Any] = [None]
            self.codes = np.zeros(rows, dtype=np.int64)
        else:
            encoded = column.dictionary_encode()
            self.values = encoded.dictionary.to_pylist()
            self.codes = encoded.indices.fill_null(len(self.values)).to_numpy(zero_copy_only=False)
            self.values.append(None)
        self.null = len(self.values) - 1

    def present(self) -> np.ndarray:
        return self.codes != self.null

    def parse(self, parse: Callable[[str], Any]) -> tuple[list[Any], np.ndarray]:
        """The parsed distinct values, and which rows hold one that does not parse."""
        parsed: list[Any] = []
        for text in self.values:
            if text is None:
                parsed.append(None)
                continue
            try:
                parsed.append(parse(text))
            except (ValueError, InvalidMessage):
                parsed.append(_BAD)
        bad = np.array([value is _BAD for value in parsed], dtype=bool)
        return parsed, bad[self.codes]

    def at(self, rows: np.ndarray, values: list[Any] | None = None) -> list[Any]:
        """The (parsed) values of the given rows."""
        values = self.values if values is None else values
        return [values[code] for code in self.codes[rows].tolist()]


def _amount(name: str) -> Callable[[str], float]:
    """The parser of a number column: what the row-by-row path accepts, else ValueError (then it says why)."""
    def parse(text: str) -> float:
        number = number_of(text, name)
        if number is None:
            raise ValueError(f"no {name}")
        return number

    return parse


def _acceptable(problem: Callable[[str], str | None]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if problem(text):
            raise ValueError(problem(text))
        return text

    return parse


def _last_present(present: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """For rows sorted by group: the position of each group's last row where ``present`` holds, or -1."""
    found = np.full(groups, -1, dtype=np.int64)
    positions = np.flatnonzero(present)
    if positions.size:
        owners = group[positions]
        last = np.append(owners[1:] != owners[:-1], True)
        found[owners[last]] = positions[last]
    return found


def _pick(values: list[Any], positions: np.ndarray) -> list[Any]:
    return [values[p] if p >= 0 else None for p in positions.tolist()]


def store_orders(
    session: Session, settings: Settings, table: pa.Table, mapping: dict[str, str],
    date_format: str | None, received_at: datetime, flush_hook: Callable[[], None] | None = None,
    unusual: set[int] | None = None,
) -> BulkResult:
    """Store the clean new orders of one chunk of order lines; return which rows need the row-by-row path."""
    size = table.num_rows
    result = BulkResult()

    def column(name: str) -> _Column:
        return _Column(table.column(mapping[name]).combine_chunks() if name in mapping else None, size)

    order_ids, stamps = column("order_id"), column("timestamp")
    who = [column(name) for name in PERSON]
    # a row without an order id, a time or an identifier, or with a NUL character, goes the row-by-row way
    early = ~order_ids.present() | ~stamps.present()
    early |= ~np.logical_or.reduce([c.present() for c in who[: len(IDENTITY)]])
    if unusual:
        early[list(unusual)] = True
    times, bad = stamps.parse(lambda text: _time(text, date_format, received_at))
    bad |= order_ids.parse(_acceptable(order_id_problem))[1]
    for name, values in zip(IDENTITY, who, strict=False):  # each distinct value checked once
        bad |= values.parse(lambda text, name=name: check_identifier(name, text, settings))[1]  # type: ignore[misc]  # the default binds name per loop
    numbers = {name: column(name) for name in NUMBERS}
    parsed_numbers = {}
    for name, values in numbers.items():
        parsed_numbers[name], wrong = values.parse(_amount(name))
        bad |= wrong
    promised = column("promised_delivery_date")
    bad |= promised.parse(lambda text: plausible_promise(date.fromisoformat(text[:10]), received_at))[1]
    # every line of an order with a problem goes the row-by-row way
    bad_orders = np.zeros(len(order_ids.values), dtype=bool)
    bad_orders[order_ids.codes[early | bad]] = True
    bad_orders[order_ids.null] = True
    slow = bad_orders[order_ids.codes]
    good = np.flatnonzero(~slow)
    result.slow_rows = np.flatnonzero(slow).tolist()
    if not good.size:
        return result
    # the lines of each order together, orders in the order the file first shows them, lines in file order
    rows = good[np.argsort(order_ids.codes[good], kind="stable")]
    codes = order_ids.codes[rows]
    starts = np.flatnonzero(np.append(True, codes[1:] != codes[:-1]))
    ends = np.append(starts[1:], rows.size)
    group = np.cumsum(np.append(True, codes[1:] != codes[:-1])) - 1
    first = rows[starts]
    names = [order_ids.values[c] for c in codes[starts].tolist()]
    message_ids = [order_message_id(name) for name in names]
    already = existing_values(session, Event.__table__.c.message_id, message_ids)
    taken = existing_values(session, Order.__table__.c.order_id, names)
    keep = np.ones(len(names), dtype=bool)
    for k, (name, message_id) in enumerate(zip(names, message_ids, strict=True)):
        if message_id in already:  # imported before: stored once, however often it comes
            result.already_rows += int(ends[k] - starts[k])
            keep[k] = False
        elif name in taken:  # an order known from another event: the update rules apply
            result.slow_rows.extend(rows[starts[k] : ends[k]].tolist())
            keep[k] = False
    result.slow_rows.sort()
    if not keep.any():
        return result
    orders = _orders(table, mapping, rows, group, starts, ends, keep, names, message_ids, first, who, times, stamps,
                     numbers, parsed_numbers, promised)
    identities = _identities(orders, settings)
    resolver = IdentityResolver(session, settings, flush_pending=flush_hook or (lambda: None))
    resolver.prefetch(k for identity in identities.values() for k in identity["keys"])
    for identity in identities.values():
        identity["customer"] = resolver.resolve(identity["keys"], when=identity["when"],
                                                message_id=identity["message_id"])
        resolver.widen(identity["customer"], identity["keys"], identity["first"], identity["last"])
    profiles = _person_traits(orders, identities, resolver)
    resolver.name_unwritten(profiles.names)
    resolver.flush()
    _write(session, settings, orders, identities, resolver, received_at)
    profiles.store(session)
    result.stored_rows += orders.size
    return result


def _identities(orders: _Orders, settings: Settings) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Who bought, once per distinct set of identifiers in the order the file first shows them: the message's
    ids and traits, the identifier keys, and when the person was first and last seen in the chunk."""
    identities: dict[tuple[Any, ...], dict[str, Any]] = {}
    for who_first, (_, when), message_id in zip(orders.who, orders.when, orders.message_ids, strict=True):
        found = identities.get(who_first)
        if found is None:
            ids, traits = row_identity(dict(zip(PERSON, who_first, strict=True)), settings)
            keys: list[Key] = [(kind, value) for kind, value in
                               (("user_id", normalize_plain(ids.get("userId"))),
                                ("anonymous_id", normalize_plain(ids.get("anonymousId")))) if value is not None]
            keys.extend(identifiers_from_traits(traits, settings))
            identities[who_first] = {"ids": ids, "traits": traits, "keys": keys, "first": when,
                                     "last": when, "when": when, "message_id": message_id}
        elif when < found["first"]:
            found["first"] = when
        elif when > found["last"]:
            found["last"] = when
    return identities


def _person_traits(orders: _Orders, identities: dict[tuple[Any, ...], dict[str, Any]],
                   resolver: IdentityResolver) -> ProfileRows:
    """The traits and display names the orders' messages give their customers, as intake decides them message
    by message (each order is a track message whose context carries the person's traits)."""
    profiles = ProfileRows()
    for who, (_, when) in zip(orders.who, orders.when, strict=True):
        given = identities[who]["traits"]
        if given:
            profiles.add(resolver.current(identities[who]["customer"]), given, at=when, source="track")
    return profiles


def _time(text: str, date_format: str | None, received_at: datetime) -> tuple[str, datetime]:
    """A row's time as the message will carry it, and as intake reads it (aware UTC; one object per distinct
    value, so that the bulk write converts each once)."""
    stamp = row_time(text, date_format) or ""  # (a row without a time was rejected before)
    return stamp, plausible_time(parse_time(stamp, "timestamp"), received_at, "timestamp")


def _orders(table: pa.Table, mapping: dict[str, str], rows: np.ndarray, group: np.ndarray, starts: np.ndarray,
            ends: np.ndarray, keep: np.ndarray, names: list[str], message_ids: list[str], first: np.ndarray,
            who: list[_Column], times: list[Any], stamps: _Column, numbers: dict[str, _Column],
            parsed_numbers: dict[str, list[Any]], promised: _Column) -> _Orders:
    """The orders to store (those ``keep`` marks): who and when (their first line), their properties (each the
    last one their lines give), their products for the event's payload, and their lines as columns."""
    count = len(names)
    kept = np.flatnonzero(keep)
    texts = {name: _Column(table.column(mapping[name]).combine_chunks() if name in mapping else None, table.num_rows)
             for name in (*TEXT_FIELDS, "product_id", "sku", "product_name", "category")}
    # order properties: the last value its lines give
    props: list[tuple[str, list[Any]]] = []
    for name in (*NUMBERS[2:], *TEXT_FIELDS, "promised_delivery_date"):
        values = numbers.get(name) or texts.get(name) or promised
        if values.values == [None]:
            continue
        parsed = parsed_numbers.get(name, values.values)
        last = _last_present(values.present()[rows], group, count)[kept]
        props.append((name, [parsed[values.codes[rows[p]]] if p >= 0 else None for p in last.tolist()]))
    # products: the lines that name a product or a price, of the orders kept
    product_id, sku, product_name, category = (texts[n] for n in ("product_id", "sku", "product_name", "category"))
    price, quantity = numbers["price"], numbers["quantity"]
    named = (product_id.present() | sku.present() | product_name.present() | price.present())[rows]
    named &= keep[group]
    line_rows = rows[named]
    position = np.cumsum(keep) - 1  # an order's place among those kept
    line_order = position[group[named]]
    prices = price.at(line_rows, parsed_numbers["price"])
    quantities = quantity.at(line_rows, parsed_numbers["quantity"])
    product_columns = [product_id.at(line_rows), sku.at(line_rows), product_name.at(line_rows),
                       category.at(line_rows), prices, [1 if q is None else q for q in quantities]]
    extras = [(name, table.column(name).take(pa.array(line_rows)).to_pylist()) for name in table.schema.names
              if name not in set(mapping.values())]
    products: list[list[dict[str, Any]]] = [[] for _ in kept]
    totals: list[float] = [0.0] * len(kept)
    for i, (owner, *product) in enumerate(zip(line_order.tolist(), *product_columns, strict=True)):
        entry = dict(zip(LINE_FIELDS, product, strict=True))
        for name, values in extras:
            if values[i] is not None:
                entry[name] = values[i]
        products[owner].append(entry)
        totals[owner] += (entry["price"] or 0.0) * entry["quantity"]
    lines = {
        "order_pk": line_order,  # made keys once the orders' keys are drawn
        "product_id": _shortened(product_id, line_rows), "sku": _shortened(sku, line_rows),
        "name": _shortened(product_name, line_rows, 300), "category": _shortened(category, line_rows),
        "price": prices, "quantity": [1.0 if q is None else q for q in quantities],
    }
    order_props = []
    for k, order_id in enumerate(names[i] for i in kept.tolist()):
        found: dict[str, Any] = {"order_id": order_id}
        for name, column in props:
            if column[k] is not None:
                found[name] = column[k]
        if products[k]:
            found["products"] = products[k]
        order_props.append(found)
    return _Orders(
        who=list(zip(*(c.at(first[kept]) for c in who), strict=True)), when=stamps.at(first[kept], times),
        props=order_props, lines_total=[t if products[k] else None for k, t in enumerate(totals)],
        message_ids=[message_ids[i] for i in kept.tolist()], size=int((ends - starts)[kept].sum()), lines=lines)


def _shortened(column: _Column, rows: np.ndarray, size: int = 200) -> list[str | None]:
    """The text of the given rows cut to the column's size (once per distinct value)."""
    return column.at(rows, [value[:size] if value is not None else None for value in column.values])


@dataclass
class _Orders:
    who: list[tuple[Any, ...]]
    when: list[tuple[str, datetime]]  # the time as written and as read (shared objects)
    props: list[dict[str, Any]]
    lines_total: list[float | None]
    message_ids: list[str]
    size: int  # order lines
    lines: dict[str, Any]


def _write(session: Session, settings: Settings, orders: _Orders, identities: dict[tuple[Any, ...], dict[str, Any]],
           resolver: IdentityResolver, received_at: datetime) -> None:
    for identity in identities.values():
        identity["customer"] = resolver.current(identity["customer"])
        identity["identifiers"] = orjson.dumps([f"{k}:{v}" for k, v in identity["keys"]]).decode()
        identity["context"] = {"traits": identity["traits"]} if identity["traits"] else None
    people = [identities[who] for who in orders.who]
    customers = [person["customer"] for person in people]
    payloads = []
    for person, (stamp, _), props, message_id in zip(people, orders.when, orders.props, orders.message_ids,
                                                          strict=True):
        message = {"type": "track", "event": "Order Completed", **person["ids"], "timestamp": stamp,
                   "properties": props}
        if person["context"]:
            message["context"] = person["context"]
        message["messageId"] = message_id
        payloads.append(orjson.dumps(message).decode())
    channels = [channel_name(props.get("channel")) for props in orders.props]
    times = [when for _, when in orders.when]
    count = len(customers)
    bulk_insert_columns(session, Event.__table__, {
        "message_id": orders.message_ids, "customer_id": customers, "type": ["track"] * count,
        "event": ["Order Completed"] * count, "channel": channels, "timestamp": times,
        "received_at": [received_at] * count,
        "identifiers": [person["identifiers"] for person in people], "payload": payloads})
    pks = reserve_ids(session, Order.__table__, count)
    amounts = []
    for props, lines_total in zip(orders.props, orders.lines_total, strict=True):
        amount = order_value(props.get, lines_total)
        amounts.append(0.0 if amount is None else amount)
    bulk_insert_columns(session, Order.__table__, {
        "id": pks, "order_id": [props["order_id"] for props in orders.props], "customer_id": customers,
        "status": ["completed"] * count, "value": amounts, "refunded": [0.0] * count,
        "currency": [_currency(props.get("currency"), settings.currency) for props in orders.props],
        "discount": [props.get("discount") for props in orders.props],
        "coupon": [text_of(props.get("coupon")) for props in orders.props], "channel": channels,
        "branch": [text_of(props.get("branch")) for props in orders.props],
        "employee": [text_of(props.get("employee")) for props in orders.props], "placed_at": times,
        "promised_delivery_date": [_day(props.get("promised_delivery_date")) for props in orders.props],
        "updated_at": times})
    lines = dict(orders.lines)
    lines["order_pk"] = np.asarray(pks, dtype=np.int64)[lines["order_pk"]]
    bulk_insert_columns(session, OrderLine.__table__, lines)


def _currency(value: str | None, default: str) -> str:
    return currency_code(value) or default


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None
