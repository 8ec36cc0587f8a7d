"""`cherish import`: customers, order lines and interactions from CSV, JSONL or Parquet, through intake's rules.

Each row becomes (part of) a Segment-spec message and goes through the same validation and identity resolution
as live events, written in bulk. A row is atomic: an invalid row is reported (row number and reason) and nothing
of it is stored. Message ids are derived from the content, so importing the same file twice stores it once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cherish.config import Settings
from cherish.db.engine import Store, paused_gc
from cherish.errors import InvalidInput
from cherish.events.files import read_batches, read_rows
from cherish.events.flows import ingest
from cherish.events.import_rows import (
    GROUPING,
    IDENTITY_FIELDS,
    NAME_FIELDS,
    NUMBER_FIELDS,
    decimal_point,
    order_message_id,
    row_identity,
    row_time,
)
from cherish.events.messages import InvalidMessage, parse_message
from cherish.events.orders import BadNumber, number_of, order_id_problem

KINDS = ("customers", "orders", "interactions")
FIELDS = {
    "customers": (*IDENTITY_FIELDS, "timestamp", *NAME_FIELDS, "birthday"),
    "orders": (*IDENTITY_FIELDS, *NAME_FIELDS, "order_id", "timestamp", "total", "revenue", "currency", "discount",
               "coupon", "channel", "branch", "employee", "status", "product_id", "sku", "product_name", "category",
               "price", "quantity", "promised_delivery_date"),
    "interactions": (*IDENTITY_FIELDS, *NAME_FIELDS, "event", "timestamp", "channel"),
}
BATCH_ROWS = 5000


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    already: int = 0  # rows stored by an earlier import (or earlier in the file): recognised, not stored twice
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _message_id(kind: str, payload: Any) -> str:
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"import-{kind}-{digest}"


class _Converter:
    def __init__(self, kind: str, mapping: dict[str, str], date_format: str | None, decimal_comma: bool,
                 settings: Settings) -> None:
        self.kind, self.mapping, self.date_format, self.settings = kind, mapping, date_format, settings
        self.mapped_columns = set(mapping.values())
        self.decimal_comma = decimal_comma

    def canonical(self, raw: dict[str, Any]) -> dict[str, Any]:
        row = {name: _clean(raw.get(column)) for name, column in self.mapping.items()}
        if self.decimal_comma:
            for name in NUMBER_FIELDS:
                if isinstance(row.get(name), str):
                    row[name] = decimal_point(row[name])
        extras = {k: _clean(v) for k, v in raw.items() if k not in self.mapped_columns and _clean(v) is not None}
        row["__extra__"] = extras
        return row

    def customer(self, row: dict[str, Any]) -> dict[str, Any]:
        ids, traits = row_identity(row, self.settings)
        if row.get("birthday") is not None:
            traits["birthday"] = row["birthday"]
        traits.update(row["__extra__"])
        message = {"type": "identify", **ids, "traits": traits}
        stamp = row_time(row.get("timestamp"), self.date_format)
        if stamp:
            message["timestamp"] = stamp
        message["messageId"] = _message_id("customer", message)
        return message

    def interaction(self, row: dict[str, Any]) -> dict[str, Any]:
        ids, traits = row_identity(row, self.settings)
        if row.get("timestamp") is None:
            raise InvalidMessage("the row has no timestamp")
        properties = dict(row["__extra__"])
        if row.get("channel") is not None:
            properties["channel"] = row["channel"]
        message = {"type": "track", **ids, "event": row.get("event"), "properties": properties,
                   "timestamp": row_time(row["timestamp"], self.date_format)}
        if traits:
            message["context"] = {"traits": traits}
        message["messageId"] = _message_id("interaction", message)
        return message


def _number(row: dict[str, Any], name: str) -> float | None:
    try:
        return number_of(row.get(name), name)
    except BadNumber as exc:
        raise InvalidMessage(str(exc)) from None


def _order_messages(lines: list[tuple[int, dict[str, Any]]], convert: _Converter,
                    report: ImportReport) -> list[tuple[list[int], dict[str, Any]]]:
    """Group order lines by order_id into one Order Completed message per order; a bad line is rejected alone."""
    orders: dict[str, dict[str, Any]] = {}
    for number, row in lines:
        try:
            ids, traits, stamp = _order_line_head(row, convert)
            price, quantity = _number(row, "price"), _number(row, "quantity")
            total, revenue, discount = _number(row, "total"), _number(row, "revenue"), _number(row, "discount")
        except InvalidMessage as exc:
            report.rejected.append((number, str(exc)))
            continue
        order = orders.setdefault(str(row["order_id"]), {"rows": [], "ids": ids, "traits": traits, "stamp": stamp,
                                                         "properties": {"order_id": str(row["order_id"])},
                                                         "products": []})
        order["rows"].append(number)
        props = order["properties"]
        for name, value in (("total", total), ("revenue", revenue), ("discount", discount)):
            if value is not None:
                props[name] = value
        for name in ("currency", "coupon", "channel", "branch", "employee", "promised_delivery_date"):
            if row.get(name) is not None:
                props[name] = row[name]
        if any(row.get(n) is not None for n in ("product_id", "sku", "product_name", "price")):
            order["products"].append({"product_id": row.get("product_id"), "sku": row.get("sku"),
                                      "name": row.get("product_name"), "category": row.get("category"),
                                      "price": price, "quantity": 1 if quantity is None else quantity,
                                      **row["__extra__"]})
    return [(order["rows"], _order_message(order)) for order in orders.values()]


def _order_line_head(row: dict[str, Any], convert: _Converter) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """What every line of an order must say: its order id, its time and who bought (ids, traits)."""
    if row.get("order_id") is None:
        raise InvalidMessage("the row has no order_id")
    problem = order_id_problem(row["order_id"])
    if problem:
        raise InvalidMessage(problem)
    if row.get("timestamp") is None:
        raise InvalidMessage("the row has no timestamp")
    ids, traits = row_identity(row, convert.settings)
    return ids, traits, row_time(row["timestamp"], convert.date_format)


def _order_message(order: dict[str, Any]) -> dict[str, Any]:
    """The Order Completed message of an order's lines gathered by ``_order_messages``."""
    properties = dict(order["properties"])
    if order["products"]:
        properties["products"] = order["products"]
    message = {"type": "track", "event": "Order Completed", **order["ids"], "timestamp": order["stamp"],
               "properties": properties}
    if order["traits"]:
        message["context"] = {"traits": order["traits"]}
    message["messageId"] = order_message_id(order["properties"]["order_id"])
    return message


def infer_kind(columns: list[str]) -> str:
    lowered = {c.lower() for c in columns}
    if "order_id" in lowered:
        return "orders"
    if "event" in lowered:
        return "interactions"
    return "customers"


def run_import(
    store: Store, settings: Settings, path: Path, *, kind: str | None = None, mapping: dict[str, str] | None = None,
    date_format: str | None = None, strict: bool = False, progress: Callable[[int], None] | None = None,
    bulk: bool = True, delimiter: str | None = None, decimal_comma: bool = False,
) -> ImportReport:
    """Import ``path``; with ``strict``, nothing is stored when any row is invalid. A CSV's ``delimiter`` is
    sniffed from its header unless given; with ``decimal_comma``, numbers are written ``1.234,50``."""
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise InvalidInput(f"the delimiter must be one character, not {delimiter!r}")
    rows = read_rows(path, delimiter)
    first = next(rows, None)
    report = ImportReport()
    if first is None:
        return report
    columns = [c for c in first[1] if c != "__error__"]
    kind = kind or infer_kind(columns + list(mapping or {}))
    convert = _Converter(kind, _columns_of(kind, columns, dict(mapping or {})), date_format, decimal_comma, settings)
    received = datetime.now(UTC)
    if bulk and kind == "orders" and "order_id" in convert.mapping and _bulk_readable(path):
        return _run_bulk_orders(store, settings, path, convert, report, received, strict, progress, delimiter)
    return _run_rows(store, settings, first, rows, kind, convert, report, received, strict=strict, progress=progress)


def _columns_of(kind: str, columns: list[str], given: dict[str, str]) -> dict[str, str]:
    """Which column holds each field: those ``--map`` gives (checked), the others found by name."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    for name, column in given.items():
        if name not in FIELDS[kind]:
            raise InvalidInput(f"--map {name}=…: {kind} have no field {name!r}; fields: {', '.join(FIELDS[kind])}")
        if column not in columns:
            raise InvalidInput(f"--map {name}={column}: the file has no column {column!r}")
    resolved = {name: col for name in FIELDS[kind] for col in columns if col.lower() == name and name not in given}
    return {**resolved, **given}


def _run_rows(store: Store, settings: Settings, first: tuple[int, dict[str, Any]],
              rows: Iterator[tuple[int, dict[str, Any]]], kind: str, convert: _Converter, report: ImportReport,
              received: datetime, *, strict: bool, progress: Callable[[int], None] | None) -> ImportReport:
    """The row-by-row path: chunks of rows become messages that intake stores (all at the end with ``strict``)."""
    order_column = convert.mapping.get("order_id") if kind == "orders" else None

    def chunks() -> Iterator[list[tuple[int, dict[str, Any]]]]:
        # The lines of one order (adjacent in the file) always travel in the same chunk.
        chunk = [first]
        for item in rows:
            full = len(chunk) >= BATCH_ROWS
            if full and (order_column is None or item[1].get(order_column) != chunk[-1][1].get(order_column)):
                yield chunk
                chunk = []
            chunk.append(item)
        if chunk:
            yield chunk

    prepared: list[tuple[list[int], dict[str, Any]]] = []
    earlier: set[str] = set()  # orders of earlier chunks
    for chunk in chunks():
        report.rows += len(chunk)
        if order_column is not None:
            late = _late_lines([_order_key(row.get(order_column)) for _, row in chunk], earlier)
            report.rejected.extend((chunk[i][0], reason) for i, reason in late.items())
            chunk = [item for i, item in enumerate(chunk) if i not in late]
        valid = _prepare(chunk, kind, convert, settings, report, received)
        if strict:
            prepared.extend(valid)
        else:
            _store(store, settings, valid, report, received)
        if progress:
            progress(len(chunk))
    if strict:
        if report.rejected:
            return report
        _store(store, settings, prepared, report, received, one_transaction=True)
    report.rejected.sort()
    return report


def _order_key(value: Any) -> str | None:
    """An order id as both paths compare them across chunks."""
    value = _clean(value)
    return None if value is None else str(value)


def _scattered(order_id: str) -> str:
    """Why a line is rejected whose order was stored from lines further up the file (files are read in chunks,
    and an order is one message: stored once, from the lines that were read together)."""
    return (f"the other lines of order {order_id!r} came much earlier in the file and were stored without this one:"
            " keep an order's lines together (sort the file by order_id)")


def _late_lines(order_ids: list[str | None], earlier: set[str]) -> dict[int, str]:
    """The lines of a chunk (by index, with the reason) whose orders came in ``earlier`` chunks; the chunk's
    orders are then added to ``earlier``. Both the bulk and the row-by-row path ask this of every chunk."""
    late = {i: _scattered(order_id) for i, order_id in enumerate(order_ids) if order_id in earlier}
    earlier.update(order_id for order_id in order_ids if order_id is not None)
    return late


def _prepare(chunk: list[tuple[int, dict[str, Any]]], kind: str, convert: _Converter, settings: Settings,
             report: ImportReport, received: datetime) -> list[tuple[list[int], dict[str, Any]]]:
    """Row by row: the messages of a chunk that intake accepts; the other rows go to the reject report."""
    canonical = []
    for number, raw in chunk:
        if "__error__" in raw:
            report.rejected.append((number, raw["__error__"]))
        else:
            canonical.append((number, convert.canonical(raw)))
    if kind == "orders":
        messages = _order_messages(canonical, convert, report)
    else:
        messages = []
        build = convert.customer if kind == "customers" else convert.interaction
        for number, row in canonical:
            try:
                messages.append(([number], build(row)))
            except InvalidMessage as exc:
                report.rejected.append((number, str(exc)))
    valid = []
    for numbers, message in messages:
        try:
            parse_message(message, settings=settings, received_at=received)
            valid.append((numbers, message))
        except InvalidMessage as exc:
            report.rejected.extend((n, str(exc)) for n in numbers)
    return valid


def _store(store: Store, settings: Settings, valid: list[tuple[list[int], dict[str, Any]]], report: ImportReport,
           received: datetime, one_transaction: bool = False) -> None:
    step = len(valid) if one_transaction else BATCH_ROWS
    for start in range(0, len(valid), max(step, 1)):
        with store.write() as session:
            _ingest(session, settings, valid[start : start + step], report, received)


def _ingest(session: Any, settings: Settings, part: list[tuple[list[int], dict[str, Any]]], report: ImportReport,
            received: datetime) -> None:
    result = ingest(session, [m for _, m in part], settings=settings, received_at=received, keep_rejected=False)
    rejected = {r["index"] for r in result.rejected}
    for found in result.rejected:
        report.rejected.extend((n, found["message"]) for n in part[found["index"]][0])
    # Of the messages sharing an id (identical rows), intake stores the first unless an earlier import did.
    kept = [(numbers, message["messageId"]) for index, (numbers, message) in enumerate(part) if index not in rejected]
    duplicates, copies, seen = Counter(result.duplicate_ids), Counter(m for _, m in kept), set()
    for numbers, message_id in kept:
        stored = message_id not in seen and duplicates[message_id] < copies[message_id]
        seen.add(message_id)
        if stored:
            report.stored += len(numbers)
        else:
            report.already += len(numbers)


# -- orders in bulk ---------------------------------------------------------------------------------------------
BULK_ROWS = 100_000


def _decimal_points(table: Any, mapping: dict[str, str]) -> Any:
    """The table with its number columns' decimal commas read as :func:`decimal_point` reads them."""
    import pyarrow.compute as pc

    for name in NUMBER_FIELDS:
        if name in mapping:
            position = table.schema.get_field_index(mapping[name])
            column = table.column(position)
            for mark in GROUPING:
                column = pc.replace_substring(column, mark, "")
            table = table.set_column(position, mapping[name], pc.replace_substring(column, ",", "."))
    return table


def _bulk_readable(path: Path) -> bool:
    """CSV and TSV files, and Parquet files whose columns are all text, take the bulk path."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return True
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        return all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in pq.read_schema(path).types)
    return False


def _order_chunks(path: Path, order_column: str, delimiter: str | None) -> Iterator[Any]:
    """Tables of about BULK_ROWS order lines; the lines of one order (adjacent in the file) stay together."""
    import pyarrow as pa

    pending: list[Any] = []
    size = 0
    for batch in read_batches(path, delimiter):
        pending.append(batch)
        size += batch.num_rows
        if size < BULK_ROWS:
            continue
        table = pa.Table.from_batches(pending)
        ids = table.column(order_column)
        last = ids[-1].as_py()
        cut = table.num_rows - 1  # where the last order's lines begin: it may go on in the next batch
        while cut > 0 and ids[cut - 1].as_py() == last:
            cut -= 1
        if cut == 0:  # one order fills the whole chunk: keep reading
            continue
        yield table.slice(0, cut)
        rest = table.slice(cut)
        pending, size = rest.to_batches(), rest.num_rows
    if size:
        yield pa.Table.from_batches(pending)


def _run_bulk_orders(store: Store, settings: Settings, path: Path, convert: _Converter, report: ImportReport,
                     received: datetime, strict: bool, progress: Callable[[int], None] | None,
                     delimiter: str | None) -> ImportReport:
    import pyarrow as pa

    from cherish.events.bulk_orders import clean_columns, store_orders

    class _Rejected(Exception):
        pass

    offset = 0
    slow_valid: list[tuple[list[int], dict[str, Any]]] = []
    earlier: set[str] = set()  # orders of earlier chunks

    def one(session: Any, table: Any) -> list[tuple[list[int], dict[str, Any]]]:
        nonlocal offset
        cleaned, unusual = clean_columns(table)
        if convert.decimal_comma:
            cleaned = _decimal_points(cleaned, convert.mapping)
        late = _late_lines(cleaned.column(convert.mapping["order_id"]).to_pylist(), earlier)
        result = store_orders(session, settings, cleaned, convert.mapping, convert.date_format, received,
                              unusual=unusual | set(late))
        report.rows += table.num_rows
        report.stored += result.stored_rows
        report.already += result.already_rows
        report.rejected.extend((offset + i + 1, reason) for i, reason in late.items())
        kept = [i for i in result.slow_rows if i not in late]
        # as read: the row-by-row path cleans them itself (numbers with a decimal comma included)
        picked = table.take(pa.array(kept, pa.int64())).to_pylist() if kept else []
        slow = [(offset + i + 1, row) for i, row in zip(kept, picked, strict=True)]
        offset += table.num_rows
        if progress:
            progress(table.num_rows)
        return _prepare(slow, "orders", convert, settings, report, received) if slow else []

    try:
        if strict:  # everything in one transaction, undone when any row is invalid
            with paused_gc(), store.write() as session:
                for table in _order_chunks(path, convert.mapping["order_id"], delimiter):
                    slow_valid.extend(one(session, table))
                if report.rejected:
                    raise _Rejected
                _ingest(session, settings, slow_valid, report, received)
                if report.rejected:
                    raise _Rejected
        else:
            for table in _order_chunks(path, convert.mapping["order_id"], delimiter):
                with paused_gc(), store.write() as session:
                    valid = one(session, table)
                _store(store, settings, valid, report, received)
    except _Rejected:
        report.stored = report.already = 0
    except pa.ArrowException as exc:  # a malformed file: say where, in one line
        raise InvalidInput(f"cannot read {path.name} after row {offset}: {str(exc).splitlines()[0]}") from None
    report.rejected.sort()
    return report
