"""Shared plumbing for the PostgreSQL read adapters.

Each call takes one short connection from the pool, so concurrent resolvers never share
a connection, and each batch method is exactly one statement (one round trip).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Executable, Select, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import BigInteger, String, TypeEngine


class PgReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, stmt: Executable) -> list[Any]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt)
            return list(result.mappings())


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
