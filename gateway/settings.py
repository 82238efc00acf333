"""The gateway's settings, read from the environment once, by whoever starts the gateway.

`DATABASE_URL` is the conventional unprefixed name; every other setting is `PI_GATEWAY_<NAME>`
(e.g. `PI_GATEWAY_TIMEZONE`, `PI_GATEWAY_MAX_DEPTH`). Nonsense values (a depth below one, an
unknown time zone) are refused at start-up with a validation error naming the setting, rather
than discovered on the first request. The request-limit defaults are the ones DESIGN.md
demands as the loosest acceptable; the rate limit (600 a minute, bursts of 100, per token)
is well above what a dashboard polling every second needs. The response cache (32 MB of
answers per process, `PI_GATEWAY_RESPONSE_CACHE_MB`, 0 turns it off) holds many data-map
and handling answers; at twice that the bench's worker went above the memory issue 7 allows
(bench/RESULTS.md has the figures, at this default too).
"""

from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PI_GATEWAY_", validate_by_name=True, validate_by_alias=True, frozen=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./pi-gateway.db", validation_alias="DATABASE_URL", min_length=1
    )
    timezone: str = "Asia/Tokyo"  # the business time zone: what "today" means (DESIGN.md)
    request_due_days: int = Field(default=14, ge=1)  # days to answer a data-subject request
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_depth: int = Field(default=15, ge=1)
    max_aliases: int = Field(default=50, ge=1)
    # a document's lexical tokens and characters: parsing runs on the event loop and its cost grows
    # with both (a string literal's characters too), so these bound what one request can block the
    # others for (issue 10's bench: bench/RESULTS.md); GraphiQL's introspection query has 183 tokens
    max_tokens: int = Field(default=2_000, ge=1)
    max_document_chars: int = Field(default=16_384, ge=1)
    max_fields: int = Field(default=2_000, ge=1)  # fields selected, fragments expanded, checked before validation
    max_repeats: int = Field(default=10, ge=1)  # selections of one response name in one selection set
    document_cache_mb: int = Field(default=16, ge=0)  # per process, parsed valid documents; 0: no cache
    earliest_date: date = date(1900, 1, 1)  # Date inputs outside earliest..latest are refused
    latest_date: date = date(2199, 12, 31)
    max_body_bytes: int = Field(default=2_000_000, ge=1)
    execution_timeout_seconds: float = Field(default=10.0, gt=0)  # an operation running longer is cancelled
    rate_limit_per_minute: int = Field(default=600, ge=1)  # per token: requests refilled per minute
    rate_limit_burst: int = Field(default=100, ge=1)  # per token: requests allowed at once
    auth_cache_seconds: float = Field(default=5.0, ge=0)  # a revoked token works at most this long
    auth_failures_per_minute: int = Field(default=60, ge=1)  # per client address: lookups of unknown tokens
    max_page_size: int = Field(default=1000, ge=1, le=1000)  # registry pages hold at most 1000
    response_cache_mb: int = Field(default=32, ge=0)  # per process, JSON bytes of answers; 0: no cache
    introspection: bool = True
    fast_path: bool = True  # read queries on schema/execution's executor where it can answer exactly
    fast_path_strict: bool = False  # stepping aside for an unplanned reason fails the request (the tests)
    federation: bool = False  # serve the schema as an Apollo Federation v2 subgraph (schema/federation.py)
    log_level: LogLevel = "info"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected an IANA name such as Asia/Tokyo)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "DATABASE_URL must use an async driver: sqlite+aiosqlite:///path.db "
                "or postgresql+asyncpg://user@host/db"
            )
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> "Settings":
        if self.earliest_date > self.latest_date:
            raise ValueError("earliest_date must not be after latest_date")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value):
        return value.lower() if isinstance(value, str) else value


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with `overrides` (by field name) taking precedence."""
    return Settings(**overrides)
