"""The demo company from nothing: build it, match the people who share no identifier, measure, let someone in."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from cherish.config import Settings
from cherish.db.engine import Store

DEMO_KEY_FILE = "demo-write-key"  # kept beside the ground truth: the demo's own files stay together


class Watch(Protocol):
    """What the demo tells whoever started it, step by step."""

    def building(self, people: int) -> None:
        """``people`` more people were built."""

    def step(self, text: str) -> None:
        """A later step starts (``matching``, ``analyzing``) or says where it is."""

    def done(self, step: str, result: Any) -> None:
        """A step finished: ``built`` (a DemoSummary), ``matched`` (a MatchSummary) or ``analyzed`` (the metrics)."""


@dataclass
class DemoCompany:
    """What a demo run found or did; the steps skipped are None."""

    existing: int  # customer records found in the store before the run (then nothing was built)
    built: Any = None  # demo.build.DemoSummary
    matched: Any = None  # identity.match_store.MatchSummary
    analyzed: dict[str, Any] | None = None  # the metrics of `cherish analyze`
    password: str | None = None  # the admin's new password, when the admin was created now
    write_key: str = ""


def set_up(store: Store, settings: Settings, *, people: int, seed: int, truth: Path, rebuild: bool = False,
           match: bool = True, analyze: bool = True, workers: int | None = None,
           watch: Watch | None = None) -> DemoCompany:
    """Build the demo company into ``store`` unless it holds one (``rebuild`` empties it first), then match and
    analyze it; make sure an admin can log in and a write key works. ``store`` holds the newest schema."""
    from cherish.customers import service as customers
    from cherish.db.migrate import downgrade, upgrade

    watch = watch or _Quiet()
    if rebuild:
        downgrade(store)
        upgrade(store)
    with store.read() as session:
        existing = customers.count(session)
    company = DemoCompany(existing=0 if rebuild else existing)
    if not company.existing:
        from cherish.demo.build import build_demo

        company.built = build_demo(store, settings, people=people, seed=seed, truth_path=truth,
                                   progress=watch.building, workers=workers)
        watch.done("built", company.built)
        if match:
            from cherish.identity.match_store import run_match

            watch.step("matching customers who share no identifier")
            company.matched = run_match(store, settings, actor="demo")
            watch.done("matched", company.matched)
        from cherish.demo.surveys import ask

        watch.step("asking the surveys the demo's deliveries and chats trigger")
        watch.step(f"surveys: {ask(store, settings):,} invitations decided by the contact policy")
        if analyze:
            from cherish.analytics.service import analyze_store
            from cherish.worker.consumers import consume

            watch.step("reading the comments (text analytics, as the worker does)")
            read = 0
            while done := consume(store, "comments", limit=2000):
                read += done
                watch.step(f"reading the comments: {read:,} events read")
            from cherish.demo.cases import work_cases

            watch.step("recovery: promises, cases, an incident")
            watch.step(f"recovery: {work_cases(store, settings, seed=seed)}")
            watch.step("measuring the relationship (cherish analyze)")
            company.analyzed = analyze_store(store, settings, datetime.now(UTC).astimezone(settings.zone).date(),
                                             progress=lambda text: watch.step(f"cherish analyze: {text}"))
            watch.done("analyzed", company.analyzed)
    with store.write() as session:
        company.password = _admin(session)
        company.write_key = _write_key(session, truth.parent / DEMO_KEY_FILE)
    return company


def beside_store(url: str, name: str) -> Path:
    """A file kept beside a SQLite store (in cherish-data/ for any other database)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:":
        return Path(database).expanduser().parent / name
    return Path("cherish-data") / name


def _admin(session: Session) -> str | None:
    """A new password when there was no admin yet (the admin is created with it), else None."""
    from cherish.access.service import create_user, user_exists

    if user_exists(session, "admin"):
        return None
    password = secrets.token_urlsafe(12)
    create_user(session, username="admin", password=password, role="admin")
    return password


def _write_key(session: Session, path: Path) -> str:
    """The demo's write key, the same on every start so that what was set up with it keeps working.

    The store keeps only a key's SHA-256, so the secret itself is kept in a file beside the demo's ground truth
    (beside a SQLite store, or in cherish-data/) that only its owner can read; a new key is made when that file
    is missing or its key no longer works (revoked, --rebuild).
    """
    from cherish.access.service import create_key, principal_for_key

    try:
        kept = path.read_text().strip()
    except OSError:
        kept = ""
    if kept and principal_for_key(session, kept) is not None:
        return kept
    _, secret = create_key(session, role="write", name="demo write key")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(handle, 0o600)  # an existing file keeps its mode through open()
    with os.fdopen(handle, "w") as file:
        file.write(secret + "\n")
    return secret


class _Quiet:
    def building(self, people: int) -> None:
        pass

    def step(self, text: str) -> None:
        pass

    def done(self, step: str, result: Any) -> None:
        pass
