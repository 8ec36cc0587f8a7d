"""Every setting of cherish, declared once with its type, default and help, read from CHERISH_* variables."""

from __future__ import annotations

from functools import lru_cache
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


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()


def reset_settings() -> None:
    """Forget cached settings, so that changed environment variables are read again (tests, CLI flags)."""
    get_settings.cache_clear()
