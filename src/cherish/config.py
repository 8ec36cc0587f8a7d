"""Every setting of cherish, declared once with its type, default and help, read from CHERISH_* variables."""

from __future__ import annotations

import re
from datetime import time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./cherish-data/cherish.db"


class Settings(BaseSettings):
    """Settings of one cherish instance; the README's configuration table documents each field."""

    model_config = SettingsConfigDict(env_prefix="CHERISH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the operational store: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
    )
    timezone: str = Field("UTC", description="Business time zone (IANA name) for day and month boundaries.")
    currency: str = Field("USD", description="Business currency (ISO 4217) for order values sent without one.")
    default_region: str = Field(
        "US", description="Region (ISO 3166 alpha-2) used to read phone numbers written without a country code."
    )
    custom_identifiers: list[str] = Field(
        default_factory=list,
        description='Trait names that identify a person, besides email, phone and loyalty_id '
                    '(JSON list, e.g. ["member_no"]).',
    )
    identifier_limits: dict[str, int] = Field(
        default_factory=lambda: {"user_id": 1, "email": 5},
        description='Most identifiers of one type a customer may hold before a merge needs review (JSON object).',
    )
    shared_identifiers: list[str] = Field(
        default_factory=lambda: ["email:test@example.com"],
        description='Identifiers that never merge anyone, as TYPE:VALUE (JSON list), e.g. a store\'s phone number.',
    )
    auto_merge_threshold: float = Field(
        0.99, ge=0, le=1, description="Match probability at or above which `cherish identity match` merges."
    )
    review_threshold: float = Field(
        0.80, ge=0, le=1, description="Match probability at or above which a proposed merge waits for review."
    )
    secret_key: str | None = Field(
        None,
        description="Key that signs dashboard sessions; when unset, one is generated and kept in the store.",
    )
    max_message_bytes: int = Field(32 * 1024, description="Largest intake message, after decompression.")
    max_request_bytes: int = Field(500 * 1024, description="Largest intake request, after decompression.")
    session_max_age: int = Field(8 * 3600, description="Seconds a dashboard login lasts.")
    log_level: str = Field("INFO", description="Log level of the server (DEBUG, INFO, WARNING, ERROR).")
    access_log: bool = Field(
        True, description="`cherish serve` logs one JSON line per request on standard error (false: none).",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated addresses "
                    "or networks, or * for any (only when nothing but the proxy can reach the server).",
    )
    pool_size: int = Field(
        10, ge=1, le=1000,
        description="PostgreSQL connections each process keeps open (10 more may open under load); SQLite ignores it.",
    )
    spark_master: str = Field("local[*]", description="Spark master URL for `cherish analyze --engine spark`.")
    match_schedule: str = Field(
        "0 2 * * *", description="When the worker runs `cherish identity match` (cron, business time zone).")
    analyze_schedule: str = Field(
        "30 2 * * *", description="When the worker runs `cherish analyze` (cron, business time zone).")
    worker_poll_seconds: float = Field(
        0.2, gt=0, le=60, description="How often the worker looks for domain events and due messages when idle.")
    outbox_max_attempts: int = Field(
        8, ge=1, le=50,
        description="Attempts to deliver a message before it becomes a dead letter (backoff 5 s to 6 h).")
    outbox_concurrency: int = Field(
        4, ge=1, le=100, description="Messages sent at once to one destination.")
    outbox_retention_days: int = Field(
        30, ge=1, le=3650,
        description="Days delivered and discarded messages are kept (the delivery log), then removed.")
    outbox_timeout: float = Field(
        10.0, gt=0, le=120, description="Seconds a receiver has to answer a delivery.")

    public_url: str = Field(
        "http://127.0.0.1:8000", description="The address customers reach cherish at, for links in messages "
                                             "(unsubscribe, later surveys).")
    smtp_host: str | None = Field(None, description="SMTP server for email; unset: email waits and is retried.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_tls: str = Field("starttls", pattern="^(starttls|ssl|none)$",
                          description="starttls, ssl (implicit TLS, port 465) or none (a local relay only).")
    smtp_user: str | None = Field(None, description="SMTP user name, when the server asks for one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    email_sender: str = Field("cherish <cherish@localhost>", description="The From of every email.")
    consent_defaults: dict[str, str] = Field(
        default_factory=lambda: {"service": "granted", "feedback": "granted", "marketing": "denied"},
        description="Consent assumed per purpose for a customer who never said (JSON): service messages are part of "
                    "the purchase, a survey may be asked once unless refused, marketing needs a yes first.",
    )
    contact_caps: list[str] = Field(
        default_factory=lambda: ["2/7d", "6/30d"],
        description="Most messages a customer gets over rolling windows, every channel together (JSON list of "
                    "LIMIT/DAYSd); service messages are exempt.",
    )
    contact_channel_caps: dict[str, list[str]] = Field(
        default_factory=dict, description="Caps per channel besides, as {\"sms\": [\"1/7d\"]} (JSON).")
    quiet_hours: str = Field(
        "21:00-08:00", description="Hours in the customer's time zone (trait timezone, else the business's) when "
                                   "only service messages go out; later ones wait. Empty: none.")
    survey_fatigue_days: int = Field(
        30, ge=0, le=365, description="No survey to a customer within this many days of the last one they were "
                                      "sent (its one reminder aside); 0: no such rule.")

    business_hours: str = Field(
        "mon-fri 09:00-17:00", description="When the clock of a recovery case's service-level targets runs, in the "
                                           "business time zone (DAY-DAY HH:MM-HH:MM).")
    holidays: str = Field(
        "", description="Public holidays on which that clock stops: a country code and optionally a subdivision "
                        "(US, GB-ENG, DE-BY); empty: none.")

    @field_validator("consent_defaults")
    @classmethod
    def _consent_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        for purpose, status in value.items():
            if purpose not in ("service", "feedback", "marketing") or status not in ("granted", "denied"):
                raise ValueError(f"{purpose}: {status} is not a consent default; use service, feedback or marketing "
                                 "with granted or denied")
        return value

    @field_validator("contact_caps")
    @classmethod
    def _caps(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_cap(text)
        return value

    @field_validator("contact_channel_caps")
    @classmethod
    def _channel_caps(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for texts in value.values():
            for text in texts:
                parse_cap(text)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("business_hours")
    @classmethod
    def _business_hours(cls, value: str) -> str:
        parse_business_hours(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        return check_holiday_country(value)

    @field_validator("match_schedule", "analyze_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from exc
        return value

    @field_validator("default_region", "currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def identifier_limit(self, identifier_type: str) -> int | None:
        return self.identifier_limits.get(identifier_type)


_CAP = re.compile(r"^\s*([0-9]{1,6})\s*/\s*([0-9]{1,4})\s*d\s*$")
_HOUR = re.compile(r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*$")


def parse_cap(text: str) -> tuple[int, int]:
    """``"2/7d"``: at most 2 messages in 7 days, as (2, 7); a window of 1 to 9,999 days."""
    found = _CAP.match(text)
    if not found or int(found.group(2)) < 1:
        raise ValueError(f"{text!r} is not a cap: write LIMIT/DAYSd, as 2/7d (1 to 9999 days)")
    return int(found.group(1)), int(found.group(2))


def parse_quiet_hours(text: str) -> tuple[time | None, time | None]:
    """``"21:00-08:00"``: from 21:00 to 08:00 the next morning; ``""``: none."""
    if not text.strip():
        return None, None
    parts = text.split("-")
    if len(parts) != 2 or not all(_HOUR.match(part) for part in parts):  # (a time zone or seconds: no)
        raise ValueError(f"{text!r} are not quiet hours: write HH:MM-HH:MM, as 21:00-08:00")
    start, end = (time.fromisoformat(part.strip()) for part in parts)
    return start, end


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BUSINESS = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$")


def parse_business_hours(text: str) -> tuple[frozenset[int], time, time]:
    """``"mon-fri 09:00-17:00"``: the weekdays (0 = Monday) and the hours of a working day."""
    found = _BUSINESS.match(text.lower())
    if not found:
        raise ValueError(f"{text!r} are not business hours: write DAY-DAY HH:MM-HH:MM, as mon-fri 09:00-17:00")
    first, last, opens, closes = found.groups()
    if first not in DAYS or (last or first) not in DAYS:
        raise ValueError(f"{text!r}: days are written {', '.join(DAYS)}")
    a, b = DAYS.index(first), DAYS.index(last or first)
    days = frozenset(range(a, b + 1)) if a <= b else frozenset([*range(a, 7), *range(0, b + 1)])
    try:
        start, end = time.fromisoformat(opens), time.fromisoformat(closes)
    except ValueError:
        raise ValueError(f"{text!r}: hours run from 00:00 to 23:59") from None
    if end <= start:
        raise ValueError(f"{text!r}: a working day closes after it opens (and on the same day)")
    return days, start, end


@lru_cache(maxsize=64)
def holidays_of(country: str, years: tuple[int, ...]) -> frozenset[Any]:
    """The public holidays of ``country`` (``US``, ``DE-BY``) in ``years``, from the holidays library."""
    import holidays

    code, _, subdivision = country.partition("-")
    try:
        found = holidays.country_holidays(code, subdiv=subdivision or None, years=list(years))
    except (NotImplementedError, KeyError) as exc:
        raise ValueError(f"no holidays are known for {country!r}; use a country code (US, GB, DE) and optionally "
                         f"a subdivision (US-CA, DE-BY)") from exc
    return frozenset(found.keys())


def check_holiday_country(country: str) -> str:
    """The country code in upper case, when the holidays library knows it (empty: none)."""
    value = country.strip().upper()
    if value:
        holidays_of(value, (2026,))
    return value


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings, so that changed environment variables are read again (tests, CLI flags)."""
    get_settings.cache_clear()
