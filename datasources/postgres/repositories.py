"""PostgreSQL read adapters (SQLAlchemy Core over asyncpg).

Each call opens one short connection from the pool, so concurrent resolvers never
share a connection; each batch is exactly one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.ports import JobCursor
from datasources.postgres.rows import company_from_row, job_from_row
from datasources.postgres.tables import companies, jobs
from domain.enums import JobStatus
from domain.records import Company, Job

_JOB_COLUMNS = [c for c in jobs.c if c.name != "search"]


class _Reader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, stmt: Select[Any]) -> list[Any]:
        async with self._engine.connect() as conn:
            result = await conn.execute(stmt)
            return list(result.mappings())


class PgCompanyRepository(_Reader):
    async def get_many(self, ids: Sequence[int]) -> list[Company | None]:
        rows = await self._rows(select(companies).where(companies.c.id.in_(ids)))
        by_id = {r["id"]: company_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]:
        rows = await self._rows(select(companies).where(companies.c.slug.in_(slugs)))
        by_slug = {r["slug"]: company_from_row(r) for r in rows}
        return [by_slug.get(s) for s in slugs]


class PgJobRepository(_Reader):
    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        rows = await self._rows(select(*_JOB_COLUMNS).where(jobs.c.id.in_(ids)))
        by_id = {r["id"]: job_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def open_page(self, limit: int, after: JobCursor | None) -> list[Job]:
        stmt = (
            select(*_JOB_COLUMNS)
            .where(jobs.c.status == JobStatus.OPEN)
            .order_by(jobs.c.posted_at.desc(), jobs.c.id.desc())
            .limit(limit)
        )
        if after is not None:
            posted_at, job_id = after
            # Row comparison keeps the keyset on ix_jobs_status_posted_id.
            stmt = stmt.where(tuple_(jobs.c.posted_at, jobs.c.id) < tuple_(posted_at, job_id))
        return [job_from_row(r) for r in await self._rows(stmt)]


__all__ = ["PgCompanyRepository", "PgJobRepository"]
