"""PostgreSQL job reads: search with keyset paging, per-company pages, matching."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import func, select, text

from datasources.postgres.job_sql import job_conditions, job_keyset
from datasources.postgres.keyset import Keyset
from datasources.postgres.reader import PgReader, parent_ids, per_parent
from datasources.postgres.rows import job_from_row, partial_job_reader
from datasources.postgres.tables import jobs
from domain.enums import JobStatus
from domain.queries import Direction, JobFilter, JobOrder, JobOrderField, Page, PageRequest
from domain.records import JOB_FIELDS, Job

JOB_COLUMNS = [c for c in jobs.c if c.name != "search"]
_COLUMN_LIST = ", ".join(f"j.{c.name}" for c in JOB_COLUMNS)
_BY_IDS = f"SELECT {_COLUMN_LIST} FROM jobs j WHERE j.id = ANY($1::bigint[])"  # noqa: S608
# One status (the board is OPEN): `status = $1` keeps ix_jobs_status_posted_id in the generic
# plan that a prepared statement settles on; `= ANY($1)` there plans a scan and a sort.
_BOARD = """SELECT {columns} FROM jobs j WHERE j.status = $1::job_status {after}
ORDER BY j.posted_at {d}, j.id {d} LIMIT $2"""
_COLUMN_NAMES = tuple(c.name for c in JOB_COLUMNS)
# What every projection carries: the id, and the board's keyset.
_ALWAYS = frozenset({"id", "posted_at"})


@lru_cache(maxsize=64)
def _board_sql(names: tuple[str, ...], desc: bool, after: bool) -> str:
    """The board's fixed SQL for one projection and direction (asyncpg prepares each once)."""
    d = "DESC" if desc else "ASC"
    condition = f"AND (j.posted_at, j.id) {'<' if desc else '>'} ($3, $4)" if after else ""
    return _BOARD.format(columns=", ".join(f"j.{n}" for n in names), after=condition, d=d)


def _projection(fields: frozenset[str] | None) -> tuple[str, ...] | None:
    """The columns to read for `fields` (table order), or None to read whole jobs."""
    if fields is None or not fields <= JOB_FIELDS:
        return None
    wanted = fields | _ALWAYS
    return tuple(n for n in _COLUMN_NAMES if n in wanted)


# Open jobs ranked for each candidate: shared skills dominate, then remote and place fit.
# The GIN index on skills finds the candidates' jobs (`&&`); one statement for all of them.
_MATCHING_JOBS = text(f"""
SELECT p.pid, {_COLUMN_LIST}
FROM jsonb_to_recordset(CAST(:profiles AS jsonb))
     AS p(pid text, skills text[], remote boolean, cities text[], country text)
CROSS JOIN LATERAL (
    SELECT jobs.*,
           cardinality(ARRAY(SELECT unnest(jobs.skills) INTERSECT SELECT unnest(p.skills))) * 10
           + CASE WHEN p.remote AND jobs.remote = 'remote' THEN 3 ELSE 0 END
           + CASE WHEN lower(jobs.city) = ANY(p.cities) THEN 2 ELSE 0 END
           + CASE WHEN jobs.country = p.country THEN 1 ELSE 0 END AS score
    FROM jobs
    WHERE jobs.status = 'open' AND jobs.skills && p.skills
    ORDER BY score DESC, jobs.posted_at DESC, jobs.id DESC
    LIMIT :limit
) j
""")  # noqa: S608 (column names come from our own table metadata)


class PgJobRepository(PgReader):
    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        rows = await self._fetch(_BY_IDS, list(ids))
        by_id = {r["id"]: job_from_row(r) for r in rows}
        return [by_id.get(i) for i in ids]

    async def search(
        self, f: JobFilter, order: JobOrder, page: PageRequest, fields: frozenset[str] | None = None
    ) -> Page[Job]:
        names = _projection(fields)
        if _is_board(f, order):
            return await self._board(f, order, page, names or _COLUMN_NAMES)
        ks = job_keyset(order, f)
        keys = [e.label(f"k{i}") for i, e in enumerate(ks.exprs)]
        columns = JOB_COLUMNS if names is None else [jobs.c[n] for n in names]
        stmt = ks.apply(select(*columns, *keys).where(job_conditions(f)), page)
        rows = await self._rows(stmt)
        read = job_from_row if names is None else partial_job_reader(names)
        return ks.finish([read(r) for r in rows], [(r["k0"], r["k1"]) for r in rows], page)

    async def count(self, f: JobFilter) -> int:
        stmt = select(func.count().label("n")).select_from(jobs).where(job_conditions(f))
        return int((await self._rows(stmt))[0]["n"])

    async def for_companies(
        self, company_ids: Sequence[int], f: JobFilter, limit: int
    ) -> dict[int, Page[Job]]:
        """Newest `limit` jobs of each company matching `f`, in one statement."""
        order = [jobs.c.posted_at.desc(), jobs.c.id.desc()]
        stmt = per_parent(
            parent_ids(company_ids), jobs.c.company_id, JOB_COLUMNS, job_conditions(f), order,
            limit + 1,
        )  # fmt: skip
        grouped: dict[int, list[Any]] = {}
        for r in await self._rows(stmt):
            grouped.setdefault(r["pid"], []).append(r)
        return {cid: _page(grouped.get(cid, []), limit) for cid in company_ids}

    async def matching_for(
        self, profiles: Sequence[dict[str, Any]], limit: int
    ) -> dict[str, list[Job]]:
        """Best open jobs for each profile {pid, skills, remote, cities, country}."""
        if not profiles:
            return {}
        payload = orjson.dumps(list(profiles)).decode()
        rows = await self._rows(_MATCHING_JOBS.bindparams(profiles=payload, limit=limit))
        found: dict[str, list[Job]] = {p["pid"]: [] for p in profiles}
        for r in rows:
            found[r["pid"]].append(job_from_row(r))
        return found

    async def _board(
        self, f: JobFilter, order: JobOrder, page: PageRequest, names: tuple[str, ...]
    ) -> Page[Job]:
        """The unfiltered board, newest or oldest first: fixed SQL, prepared once."""
        desc = (order.direction is Direction.DESC) != page.backward
        (status,) = f.statuses
        sql = _board_sql(names, desc, page.after is not None)
        after = () if page.after is None else page.after
        rows = await self._fetch(sql, status.value, page.size + 1, *after)
        keyset = Keyset([jobs.c.posted_at, jobs.c.id], order.direction is Direction.DESC)
        read = partial_job_reader(names)
        items = [read(r) for r in rows]
        return keyset.finish(items, [(j.posted_at, j.id) for j in items], page)


def _is_board(f: JobFilter, order: JobOrder) -> bool:
    return (
        order.field is JobOrderField.POSTED_AT
        and len(f.statuses) == 1
        and JobStatus.DRAFT not in f.statuses
        and f == JobFilter(statuses=f.statuses)
    )


def _page(rows: list[Any], limit: int) -> Page[Job]:
    items = [job_from_row(r) for r in rows[:limit]]
    return Page(items, [(j.posted_at, j.id) for j in items], has_next_page=len(rows) > limit)
