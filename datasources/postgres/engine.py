"""The SQLAlchemy async engine (asyncpg), built by the lifespan, never at import time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(
    url: str,
    *,
    pool_size: int,
    max_overflow: int,
    pool_timeout: float,
    connect_timeout: float,
    statement_timeout_ms: int,
) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        connect_args={
            "timeout": connect_timeout,
            "server_settings": {
                "statement_timeout": str(statement_timeout_ms),
                "application_name": "hiregraph",
            },
        },
    )


def asyncpg_dsn(url: str) -> str:
    """The plain asyncpg DSN for a SQLAlchemy URL (bulk loads use asyncpg directly)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
