"""Where a dashboard list is cut: which rows this page shows of how many, and links to the pages around it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from cherish.errors import InvalidInput


@dataclass(frozen=True)
class Page:
    """Rows ``offset + 1`` to ``offset + shown`` of ``total`` (more than ``total`` when ``capped``)."""

    total: int
    offset: int
    limit: int
    shown: int
    path: str
    params: tuple[tuple[str, str], ...] = ()
    key: str = "offset"
    capped: bool = False

    @property
    def cut(self) -> bool:
        """Whether the list holds more than this page."""
        return self.offset > 0 or self.offset + self.shown < self.total or self.capped

    def _url(self, offset: int) -> str:
        query = [(k, v) for k, v in self.params if v] + ([(self.key, str(offset))] if offset else [])
        return self.path + ("?" + urlencode(query) if query else "")

    @property
    def previous_url(self) -> str | None:
        return self._url(max(self.offset - self.limit, 0)) if self.offset > 0 else None

    @property
    def next_url(self) -> str | None:
        return self._url(self.offset + self.limit) if self.offset + self.shown < self.total else None


def offset_from(value: str | int | None, *, name: str = "offset") -> int:
    """A page's offset from the query string: a whole number from 0."""
    if value is None or value == "":
        return 0
    try:
        offset = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number") from None
    if offset < 0:
        raise InvalidInput(f"{name} must be 0 or more")
    return offset


def page(*, total: int, offset: int, limit: int, shown: int, path: str, key: str = "offset", capped: bool = False,
         **params: str | None) -> Page:
    """The page of a list: ``params`` are the other query parameters its links keep."""
    return Page(total=total, offset=offset, limit=limit, shown=shown, path=path, key=key, capped=capped,
                params=tuple((k, v) for k, v in params.items() if v))
