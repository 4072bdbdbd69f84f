"""One Settings object, read from the environment (prefix HIREGRAPH_).

Only the CLI constructs `Settings()`; everything else receives it explicitly.
A store URL left unset means "start the embedded server for it" (dev only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
