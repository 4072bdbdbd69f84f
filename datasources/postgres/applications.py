"""PostgreSQL application reads: by id, per job and per candidate pages, counts.

Every read takes an `ApplicationFilter`, whose scope fields (the viewer's, from
`domain.policy`) become conditions of the statement itself. Unscoped reads keep their
fixed SQL; scoped ones are built with SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import BigInteger, Text

from datasources.postgres.reader import PgReader, parent_ids, per_parent
from datasources.postgres.rows import application_from_row
from datasources.postgres.tables import applications, jobs
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
# The companies each candidate applied to, and the applicants of one company.
_APPLIED_TO = """SELECT a.candidate_id, array_agg(DISTINCT j.company_id) AS companies
FROM applications a JOIN jobs j ON j.id = a.job_id
WHERE a.candidate_id = ANY($1::text[]) GROUP BY a.candidate_id"""
_APPLICANTS = """SELECT DISTINCT a.candidate_id FROM applications a
JOIN jobs j ON j.id = a.job_id WHERE j.company_id = $1"""
_ORDER = [applications.c.applied_at.desc(), applications.c.id.desc()]
_UNSCOPED = (None, None)


def _conditions(f: ApplicationFilter) -> ColumnElement[bool]:
    c = applications.c
    conds: list[ColumnElement[bool]] = []
    if f.statuses is not None:
        conds.append(c.status.in_(list(f.statuses)))
    if f.candidate_id is not None:
        conds.append(c.candidate_id == f.candidate_id)
    if f.company_id is not None:
        own_jobs = select(jobs.c.id).where(jobs.c.company_id == f.company_id)
        conds.append(c.job_id.in_(own_jobs.scalar_subquery()))
    return and_(true(), *conds)


def _scoped(f: ApplicationFilter) -> bool:
    return (f.company_id, f.candidate_id) != _UNSCOPED


class PgApplicationRepository(PgReader):
    async def get_many(self, ids: Sequence[int], f: ApplicationFilter) -> list[Application | None]:
        if _scoped(f) or f.statuses is not None:
            id_list = literal(list(ids), ARRAY(BigInteger()))
            stmt = select(applications).where(
                applications.c.id == func.any(id_list), _conditions(f)
            )
            rows = await self._rows(stmt)
        else:
            rows = await self._fetch(_BY_IDS, list(ids))
        by_id = {r["id"]: application_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def applied_to(self, candidate_ids: Sequence[str]) -> dict[str, frozenset[int]]:
        """The companies each candidate applied to (empty for none), in one statement."""
        rows = await self._fetch(_APPLIED_TO, list(candidate_ids))
        found = {r["candidate_id"]: frozenset(r["companies"]) for r in rows}
        return {c: found.get(c, frozenset()) for c in candidate_ids}

    async def applicants(self, company_id: int) -> frozenset[str]:
        """Ids of the candidates who applied to any of the company's jobs."""
        rows = await self._fetch(_APPLICANTS, company_id)
        return frozenset(r["candidate_id"] for r in rows)

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
        if _scoped(f):
            return await self._scoped_counts(keys, column, f)
        sql = _COUNT_BY_JOB if column is applications.c.job_id else _COUNT_BY_CANDIDATE
        statuses = None if f.statuses is None else [s.value for s in f.statuses]
        counts = {r["pid"]: int(r["n"]) for r in await self._fetch(sql, list(keys), statuses)}
        return {k: counts.get(k, 0) for k in keys}

    async def _scoped_counts(
        self, keys: Sequence[K], column: ColumnElement[Any], f: ApplicationFilter
    ) -> dict[K, int]:
        item = BigInteger() if column is applications.c.job_id else Text()
        stmt = (
            select(column.label("pid"), func.count().label("n"))
            .where(column == func.any(literal(list(keys), ARRAY(item))), _conditions(f))
            .group_by(column)
        )
        counts = {r["pid"]: int(r["n"]) for r in await self._rows(stmt)}
        return {k: counts.get(k, 0) for k in keys}
