"""Shared plumbing for the PostgreSQL read adapters: an asyncpg pool, statements counted.

Reads go straight to an asyncpg pool: hot statements are fixed SQL (prepared once per
connection by asyncpg's statement cache) and dynamic ones (filters, orders) are built
with SQLAlchemy Core and compiled to the same `$n` parameter form. Every value is a bound
parameter. The pool runs in autocommit, so a read is one round trip, and each call
takes its own connection, so concurrent resolvers never share one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import ClauseElement, ColumnElement, Select, func, literal, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import BigInteger, String, TypeEngine

from datasources import observe, roundtrips
from domain.errors import UpstreamBusy

_DIALECT = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]


def compile_statement(stmt: ClauseElement) -> tuple[str, list[Any]]:
    """SQL text with `$n` placeholders and the positional values, for asyncpg."""
    compiled = cast(
        SQLCompiler,
        stmt.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True}),
    )
    params = compiled.construct_params() or {}
    return compiled.string, [params[name] for name in compiled.positiontup or ()]


class ReadConnection(asyncpg.Connection):  # type: ignore[misc]
    """A read-only pool connection: nothing to reset when it goes back to the pool.

    asyncpg's default release sends `RESET ALL; UNLISTEN *; ...` (a second round trip per
    statement). Read adapters never open transactions, set session state, listen or
    take advisory locks, so the reset has nothing to undo.
    """

    def get_reset_query(self) -> str:
        return ""


async def create_pool(
    dsn: str,
    *,
    max_size: int,
    acquire_timeout: float,
    statement_timeout_ms: int,
    application_name: str = "hiregraph",
) -> asyncpg.Pool:
    # min_size=0: the gateway starts (and reports not ready) while Postgres is down.
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=max_size,
        timeout=acquire_timeout,
        connection_class=ReadConnection,
        server_settings={
            "statement_timeout": str(statement_timeout_ms),
            "application_name": application_name,
            # Only the analytics aggregates cost enough to be JIT-compiled, and there the
            # compilation took longer than it saved (1.3 s of 4.5 s at large).
            "jit": "off",
        },
    )
    return pool


async def ping(pool: asyncpg.Pool) -> None:
    await pool.fetchval("SELECT 1")


class PgReader:
    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float = 5.0) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        counter = roundtrips.current()
        if counter is not None:
            counter.postgres += 1
        started, ok = time.perf_counter(), False
        try:
            conn = await self._acquire()
            try:
                rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
                ok = True
                return rows
            finally:
                await self._pool.release(conn)
        finally:
            elapsed = time.perf_counter() - started
            observe.sink.store_call("postgres", observe.sql_operation(sql), elapsed, ok)

    async def _acquire(self) -> asyncpg.Connection:
        """A pooled connection. An acquire that timed out with every connection busy is
        back-pressure (UPSTREAM_BUSY); otherwise a new connection could not be opened in
        time (a slow or unreachable server: a timeout)."""
        try:
            conn: asyncpg.Connection = await self._pool.acquire(timeout=self._acquire_timeout)
            return conn
        except TimeoutError:
            waited, pool = self._acquire_timeout, self._pool
            if pool.get_size() >= pool.get_max_size() and pool.get_idle_size() == 0:
                raise UpstreamBusy(
                    "postgres", f"no postgres connection free within {waited:g}s"
                ) from None
            raise TimeoutError(f"no postgres connection within {waited:g}s") from None

    async def _rows(self, stmt: ClauseElement) -> list[asyncpg.Record]:
        sql, args = compile_statement(stmt)
        return await self._fetch(sql, *args)


def parent_ids(ids: Sequence[int] | Sequence[str], string: bool = False) -> Any:
    """`unnest(:ids) AS p(pid)`: the parents a per-parent (LATERAL) query runs for."""
    item: TypeEngine[Any] = String() if string else BigInteger()
    return select(func.unnest(literal(list(ids), ARRAY(item))).label("pid")).subquery("p")


def per_parent(
    parents: Any,
    parent_column: ColumnElement[Any],
    columns: Sequence[ColumnElement[Any]],
    where: ColumnElement[bool],
    order: Sequence[ColumnElement[Any]],
    limit: int,
) -> Select[Any]:
    """Top `limit` rows for every parent in one statement (CROSS JOIN LATERAL)."""
    inner = (
        select(*columns)
        .where(parent_column == parents.c.pid, where)
        .order_by(*order)
        .limit(limit)
        .lateral("x")
    )
    return select(parents.c.pid, inner).select_from(parents.join(inner, true()))
