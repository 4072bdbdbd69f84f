"""One Settings object, read from the environment (prefix HIREGRAPH_).

Only the CLI constructs `Settings()`; everything else receives it explicitly.
A store URL left unset means "start the embedded server for it" (dev only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse as parse_rate_limit
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.viewer import Role

STORES = ("postgres", "mongo", "redis")


class PoolSettings(BaseModel):
    """Connection pools and timeouts. Seconds unless the name says otherwise."""

    postgres_pool_size: int = Field(10, ge=1, le=200)
    postgres_max_overflow: int = Field(10, ge=0, le=200)
    postgres_pool_timeout: float = Field(5.0, gt=0)
    postgres_connect_timeout: float = Field(5.0, gt=0)
    postgres_statement_timeout_ms: int = Field(5000, ge=0)
    mongo_max_pool_size: int = Field(50, ge=1, le=1000)
    mongo_server_selection_timeout_ms: int = Field(5000, ge=100)
    mongo_connect_timeout_ms: int = Field(5000, ge=100)
    mongo_socket_timeout_ms: int = Field(10000, ge=100)
    redis_max_connections: int = Field(50, ge=1, le=10000)
    redis_socket_timeout: float = Field(2.0, gt=0)
    redis_connect_timeout: float = Field(2.0, gt=0)


class LimitSettings(BaseModel):
    """Request limits (issue 4). Env: HIREGRAPH_LIMITS__MAX_DEPTH=12 and so on; the
    dictionaries as JSON, e.g. HIREGRAPH_LIMITS__COST_BUDGETS='{"PUBLIC": 2000, ...}'."""

    # Deeper than any screen needs (the job board is 7); bounds the fan-out of nesting.
    max_depth: int = Field(10, ge=1, le=100)
    # Aliases are how one request asks for the same expensive field many times.
    max_aliases: int = Field(30, ge=0)
    # Bounds parse time and memory; the largest real operation is a few hundred tokens.
    max_tokens: int = Field(5000, ge=100)
    # A real operation uses a handful of @include/@skip; 50 leaves room for generated
    # queries while refusing the directive-spam that slows validation.
    max_directives: int = Field(50, ge=0)
    # Off until a client needs it: a batch multiplies every per-request limit.
    batching_enabled: bool = False
    max_batch_operations: int = Field(5, ge=1, le=100)
    # 1 MiB: a 5,000-token document with variables is far smaller.
    max_body_bytes: int = Field(1 << 20, ge=1024)
    # A store call that takes longer is stuck; free the worker and say so.
    execution_timeout_seconds: float = Field(10.0, gt=0)
    # Cost units per operation (schema.limits.cost): the job board of 50 costs ~150-550,
    # `first: 100` inside `first: 100` costs 10,201.
    cost_budgets: dict[Role, int] = Field(
        default_factory=lambda: {
            Role.PUBLIC: 1_000,
            Role.CANDIDATE: 2_000,
            Role.RECRUITER: 5_000,
            Role.ANALYST: 10_000,
            Role.ADMIN: 25_000,
        }
    )
    # Cost units per window, per API key, user or (PUBLIC) client IP.
    rate_limits: dict[Role, str] = Field(
        default_factory=lambda: {
            Role.PUBLIC: "20000/minute",
            Role.CANDIDATE: "20000/minute",
            Role.RECRUITER: "60000/minute",
            Role.ANALYST: "120000/minute",
            Role.ADMIN: "300000/minute",
        }
    )
    # A dead Redis must not add seconds per request (see gateway.limits.rate).
    rate_limit_redis_timeout: float = Field(0.25, gt=0)
    rate_limit_redis_retry_seconds: float = Field(5.0, ge=0)

    @field_validator("cost_budgets", "rate_limits")
    @classmethod
    def _every_role(cls, value: dict[Role, object]) -> dict[Role, object]:
        missing = sorted(set(Role) - value.keys())
        if missing:
            raise ValueError(f"missing roles: {', '.join(missing)}")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _parseable(cls, value: dict[Role, str]) -> dict[Role, str]:
        for limit in value.values():
            parse_rate_limit(limit)  # ValueError on e.g. "5000 a minute"
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HIREGRAPH_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    env: Literal["dev", "prod"] = "dev"
    postgres_url: str | None = None
    mongo_url: str | None = None
    mongo_db: str = "hiregraph"
    redis_url: str | None = None
    broker_url: str | None = None
    data_dir: Path = Path("./.hiregraph")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    readiness_timeout: float = Field(2.0, gt=0)
    gc_gen0_threshold: int = Field(
        25_000,
        ge=0,
        description="Young-generation GC threshold for serving processes; 0 keeps Python's.",
    )
    expose_round_trips: bool | None = Field(
        None, description="Report store round trips in `extensions`; defaults to on in dev."
    )
    compiled_operations: bool = Field(
        True,
        description="Answer covered queries with compiled programs instead of graphql-core.",
    )
    pools: PoolSettings = PoolSettings()
    limits: LimitSettings = LimitSettings()

    @model_validator(mode="after")
    def _prod_needs_real_stores(self) -> Settings:
        if self.env == "prod":
            missing = [f"HIREGRAPH_{s.upper()}_URL" for s in STORES if self.url_for(s) is None]
            if missing:
                raise ValueError(
                    "HIREGRAPH_ENV=prod refuses embedded stores; set " + ", ".join(missing)
                )
        return self

    def url_for(self, store: str) -> str | None:
        url: str | None = getattr(self, f"{store}_url")
        return url

    @property
    def embedded_stores(self) -> tuple[str, ...]:
        """Stores whose URL is unset and so run embedded under `data_dir`."""
        return tuple(s for s in STORES if self.url_for(s) is None)

    @property
    def graphiql(self) -> bool:
        return self.env == "dev"

    @property
    def round_trips_in_responses(self) -> bool:
        return self.env == "dev" if self.expose_round_trips is None else self.expose_round_trips
