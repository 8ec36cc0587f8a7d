"""CSV files that a spreadsheet opens safely: every CSV cherish writes goes through here.

A cell that starts like a formula (``=HYPERLINK(…)``, ``@SUM(…)``, ``+``, ``-``, a tab or a carriage return)
would be run by Excel, LibreOffice or Google Sheets when the file is opened; branch, employee and product names,
comments and identifiers come from customers and other systems. Such a cell is written with a leading ``'``,
which spreadsheets show as text (OWASP's CSV injection rule). Numbers, and text that is a plain number such as a
phone in E.164 or ``-12.5``, are written as they are.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # (and full-width)
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, or, when it is text that a spreadsheet would read as a formula, that text with a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """A ``csv.writer`` whose cells pass through :func:`safe_cell`."""

    def __init__(self, handle: Any, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: Any, **options: Any) -> SafeWriter:
    """A CSV writer for files people open in spreadsheets."""
    return SafeWriter(handle, **options)
