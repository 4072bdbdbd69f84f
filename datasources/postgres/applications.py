"""PostgreSQL application reads: by id, per job and per candidate pages, counts."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, true

from datasources.postgres.reader import PgReader, parent_ids, per_parent
from datasources.postgres.rows import application_from_row
from datasources.postgres.tables import applications
from domain.queries import ApplicationFilter, Page
from domain.records import Application

K = TypeVar("K", bound=Hashable)
_BY_IDS = "SELECT * FROM applications WHERE id = ANY($1::bigint[])"
_COUNT = """SELECT {col} AS pid, count(*) AS n FROM applications
WHERE {col} = ANY($1::{typ}[]) AND ($2::application_status[] IS NULL
      OR status = ANY($2::application_status[]))
GROUP BY {col}"""
_COUNT_BY_JOB = _COUNT.format(col="job_id", typ="bigint")
_COUNT_BY_CANDIDATE = _COUNT.format(col="candidate_id", typ="text")
_ORDER = [applications.c.applied_at.desc(), applications.c.id.desc()]


def _conditions(f: ApplicationFilter) -> ColumnElement[bool]:
    if f.statuses is None:
        return true()
    return and_(applications.c.status.in_(list(f.statuses)))


class PgApplicationRepository(PgReader):
    async def get_many(self, ids: Sequence[int]) -> list[Application | None]:
        rows = await self._fetch(_BY_IDS, list(ids))
        by_id = {r["id"]: application_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def for_jobs(
        self, job_ids: Sequence[int], f: ApplicationFilter, limit: int
    ) -> dict[int, Page[Application]]:
        return await self._pages(job_ids, applications.c.job_id, f, limit, string=False)

    async def for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter, limit: int
    ) -> dict[str, Page[Application]]:
        return await self._pages(candidate_ids, applications.c.candidate_id, f, limit, string=True)

    async def count_for_jobs(self, job_ids: Sequence[int], f: ApplicationFilter) -> dict[int, int]:
        return await self._counts(job_ids, applications.c.job_id, f)

    async def count_for_candidates(
        self, candidate_ids: Sequence[str], f: ApplicationFilter
    ) -> dict[str, int]:
        return await self._counts(candidate_ids, applications.c.candidate_id, f)

    async def _pages(
        self, keys: Sequence[K], column: ColumnElement[Any], f: ApplicationFilter, limit: int,
        *, string: bool,
    ) -> dict[K, Page[Application]]:  # fmt: skip
        parents = parent_ids(keys, string=string)  # type: ignore[arg-type]
        stmt = per_parent(parents, column, list(applications.c), _conditions(f), _ORDER, limit + 1)
        grouped: dict[Any, list[Any]] = {}
        for r in await self._rows(stmt):
            grouped.setdefault(r["pid"], []).append(r)
        pages: dict[K, Page[Application]] = {}
        for key in keys:
            rows = grouped.get(key, [])
            items = [application_from_row(r) for r in rows[:limit]]
            keyset: list[tuple[object, ...]] = [(a.applied_at, a.id) for a in items]
            pages[key] = Page(items, keyset, has_next_page=len(rows) > limit)
        return pages

    async def _counts(
        self, keys: Sequence[K], column: ColumnElement[Any], f: ApplicationFilter
    ) -> dict[K, int]:
        sql = _COUNT_BY_JOB if column is applications.c.job_id else _COUNT_BY_CANDIDATE
        statuses = None if f.statuses is None else [s.value for s in f.statuses]
        counts = {r["pid"]: int(r["n"]) for r in await self._fetch(sql, list(keys), statuses)}
        return {k: counts.get(k, 0) for k in keys}
