"""PostgreSQL aggregates: one statement per request, nothing but the result rows returned.

Every job aggregate reuses `job_conditions`, so a filter means the same as on `jobs`.
Times are bucketed in UTC (`AT TIME ZONE 'UTC'`), whatever the session's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Select,
    Table,
    func,
    literal,
    literal_column,
    nulls_last,
    select,
    text,
)

from datasources import observe, roundtrips
from datasources.postgres.job_sql import job_conditions
from datasources.postgres.reader import PgReader, compile_statement
from datasources.postgres.rollup import rollup_statement
from datasources.postgres.stats_rows import job_stats_rows, utc
from datasources.postgres.tables import job_skills, jobs
from domain.analytics import (
    Funnel,
    FunnelQuery,
    FunnelStage,
    JobBucket,
    JobGroup,
    JobStatsQuery,
    SalaryStats,
    SkillDemand,
    StatsOrder,
    TimePoint,
    TimeseriesQuery,
)
from domain.applications import PIPELINE
from domain.queries import JobFilter
from domain.rollup import WHOLE_BOARD_SKILLS, RollupRead, rollup_read

# Statements over job_skills run with this (SET LOCAL, in their own transaction). At
# large (1.1M rows) with the default 4, the planner costed the index-only scan of
# ix_job_skills_status_skill above a sequential scan plus a full sort of every row
# (which spilled to disk): 2.8 s against 0.85 s. The index is as cached as the table,
# which is what a random_page_cost near 1 says.
SKILL_SETTINGS = "SET LOCAL random_page_cost = 1.1"


def _source(groups: tuple[JobGroup, ...]) -> Table:
    """Groupings by SKILL read job_skills (one row per job and skill, a job without
    skills once with skill NULL: the same rows as jobs LEFT JOIN unnest(skills))."""
    return job_skills if JobGroup.SKILL in groups else jobs


def job_stats_statement(q: JobStatsQuery) -> Select[Any]:
    """Keys and each row's salary value computed once per row (inner), then grouped."""
    t = _source(q.group_by)
    company = JobGroup.COMPANY in q.group_by
    rows = job_stats_rows(q.filter, q.group_by, t, company_name=company).subquery("x")
    keys = [rows.c[f"g_{g.value}"] for g in q.group_by]
    keys += [rows.c.company_name] if company else []
    keys.append(rows.c.currency)
    v = rows.c.v
    stmt = select(
        *keys, func.count().label("n"), func.count(v).label("n_salary"),
        func.min(v).label("lo"), func.max(v).label("hi"), func.avg(v).label("avg"),
        func.percentile_cont(0.5).within_group(v).label("p50"),
        func.percentile_cont(0.9).within_group(v).label("p90"),
    ).group_by(*_grouping_order(q.group_by, keys, rows))  # fmt: skip
    tie: list[ColumnElement[Any]] = [literal_column(str(i + 1)) for i in range(len(keys))]
    orders: dict[StatsOrder, list[Any]] = {
        StatsOrder.COUNT_DESC: [literal_column("n").desc()],
        StatsOrder.COUNT_ASC: [literal_column("n").asc()],
        StatsOrder.SALARY_P50_DESC: [nulls_last(literal_column("p50").desc())],
        StatsOrder.SALARY_P50_ASC: [nulls_last(literal_column("p50").asc())],
        StatsOrder.KEY_ASC: [],
    }
    return stmt.order_by(*orders[q.order], *tie).limit(q.first)


def _grouping_order(groups: tuple[JobGroup, ...], keys: list[Any], rows: Any) -> list[Any]:
    """The GROUP BY list (its order changes nothing but the sort the plan needs): with
    SKILL, skill and currency first, the order of ix_job_skills_status_skill, so the
    other keys need only an incremental sort within each (skill, currency)."""
    if JobGroup.SKILL not in groups:
        return keys
    first = [rows.c.g_skill, rows.c.currency]
    return first + [k for k in keys if k is not rows.c.g_skill and k is not rows.c.currency]


def _key_value(group: JobGroup, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return value


def _bucket(q: JobStatsQuery, r: Any) -> JobBucket:
    keys: dict[JobGroup, object] = {g: _key_value(g, r[f"g_{g.value}"]) for g in q.group_by}
    if JobGroup.COMPANY in q.group_by:
        keys[JobGroup.COMPANY] = (r["g_company"], r["company_name"])
    salary = SalaryStats(r["n_salary"], r["lo"], r["hi"], r["avg"], r["p50"], r["p90"])
    currency = r["currency"].strip() if r["currency"] is not None else None
    return JobBucket(keys, currency, r["n"], salary)


def timeseries_statement(q: TimeseriesQuery) -> Any:
    unit = q.interval.value
    posted = utc(jobs.c.posted_at)
    counted = (
        select(func.date_trunc(unit, posted).label("bucket"), func.count().label("n"))
        .where(job_conditions(q.filter), jobs.c.posted_at >= q.start, jobs.c.posted_at < q.end)
        .group_by(literal_column("1"))
        .cte("counted")
    )
    buckets = select(
        func.generate_series(
            func.date_trunc(unit, utc(literal(q.start))),
            utc(literal(q.end)) - text("interval '1 microsecond'"),
            text(f"interval '1 {unit}'"),  # unit: our own enum value
        ).label("bucket")
    ).subquery("b")
    return (
        select(buckets.c.bucket, func.coalesce(counted.c.n, 0).label("n"))
        .select_from(buckets.outerjoin(counted, counted.c.bucket == buckets.c.bucket))
        .order_by(buckets.c.bucket)
    )


def demand_statement(f: JobFilter) -> Select[Any]:
    """Per (skill, currency): jobs asking for it, and their median salary. Read from
    job_skills in the order of ix_job_skills_status_skill: no sort but the medians'.
    Labelled as the rollup's SKILL rows (`g_skill`, `p50`): `_demand` reads either."""
    t = job_skills
    return (
        select(
            t.c.skill.label("g_skill"),
            t.c.salary_currency.label("currency"),
            func.count().label("n"),
            func.percentile_cont(0.5).within_group(t.c.salary).label("p50"),
        )
        .where(job_conditions(f, t), t.c.skill.is_not(None))
        .group_by(t.c.skill, t.c.salary_currency)
    )


def _demand(rows: list[Any]) -> list[SkillDemand]:
    counts: dict[str, int] = {}
    medians: dict[str, dict[str, float]] = {}
    for r in rows:
        skill = r["g_skill"]
        if skill is None:  # the rollup's "no skill" bucket
            continue
        counts[skill] = counts.get(skill, 0) + r["n"]
        if r["currency"] is not None and r["p50"] is not None:
            medians.setdefault(skill, {})[r["currency"].strip()] = r["p50"]
    return [SkillDemand(s, n, medians.get(s, {})) for s, n in counts.items()]


_RANK = " ".join(f"WHEN '{s.value}' THEN {i + 1}" for i, s in enumerate(PIPELINE))
_REACHED = ",\n".join(
    f"min(h.at) FILTER (WHERE h.to_status = '{s.value}') AS t{i + 1}"
    for i, s in enumerate(PIPELINE)
    if i > 0
)
_COUNTS = ",\n".join(f"count(*) FILTER (WHERE rank >= {i + 1}) AS n{i + 1}" for i in range(5))
_DAYS = ",\n".join(
    f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t{i + 1} - t{i}) / 86400)"
    f" AS m{i + 1},\n"
    f"percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t{i + 1} - t{i}) / 86400)"
    f" AS p{i + 1}"
    for i in range(1, 5)
)
# An application reached a stage when its history moved it there, or when its current
# status is that stage or a later one (rows older than the history table have no
# history). Days between stages need both moves' times: the first move into each stage;
# the APPLIED time is `applied_at`.
FUNNEL_SQL = f"""
WITH apps AS (
    SELECT a.id, a.status, a.applied_at AS t1
    FROM applications a JOIN jobs j ON j.id = a.job_id
    WHERE ($1::bigint IS NULL OR a.job_id = $1)
      AND ($2::bigint IS NULL OR j.company_id = $2)
      AND ($3::bigint IS NULL OR j.company_id = $3)
      AND ($4::timestamptz IS NULL OR a.applied_at >= $4)
      AND ($5::timestamptz IS NULL OR a.applied_at < $5)
), reached AS (
    SELECT apps.id, apps.status, apps.t1,
           max(CASE h.to_status {_RANK} ELSE 1 END) AS hrank,
           {_REACHED}
    FROM apps LEFT JOIN application_history h ON h.application_id = apps.id
    GROUP BY apps.id, apps.status, apps.t1
), ranked AS (
    SELECT *, greatest(coalesce(hrank, 1), CASE status {_RANK} ELSE 1 END) AS rank
    FROM reached
)
SELECT count(*) AS total,
       count(*) FILTER (WHERE status = 'rejected') AS rejected,
       count(*) FILTER (WHERE status = 'withdrawn') AS withdrawn,
       {_COUNTS},
       {_DAYS}
FROM ranked
"""  # noqa: S608 (only our own enum values are interpolated)


def _funnel(r: Any) -> Funnel:
    stages = []
    for i, status in enumerate(PIPELINE, start=1):
        n, before = r[f"n{i}"], r[f"n{i - 1}"] if i > 1 else None
        conversion = n / before if before else None
        median = r[f"m{i}"] if i > 1 else None
        p90 = r[f"p{i}"] if i > 1 else None
        stages.append(FunnelStage(status, n, conversion, median, p90))
    return Funnel(r["total"], tuple(stages), r["rejected"], r["withdrawn"])


class PgAnalytics(PgReader):
    """Job and application aggregates (`datasources.ports.JobAnalytics`).

    With `rollup_max_staleness` set (seconds), `jobStats` and the `skillsGap` demand
    that the board-wide rollup covers (`domain.rollup`) are read from it while it is
    stale by at most that long, and computed live otherwise."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        acquire_timeout: float = 5.0,
        *,
        rollup_max_staleness: float | None = None,
    ) -> None:
        super().__init__(pool, acquire_timeout)
        self._max_staleness = rollup_max_staleness

    async def _skill_rows(self, stmt: ClauseElement) -> list[asyncpg.Record]:
        """A statement over job_skills, in a transaction with `SKILL_SETTINGS` (BEGIN,
        SET and COMMIT: three short round trips more, against tens of ms or more)."""
        sql, args = compile_statement(stmt)
        counter = roundtrips.current()
        if counter is not None:
            counter.postgres += 1
        pool = self._pool
        async with pool.acquire(timeout=self._acquire_timeout) as conn, conn.transaction():
            await conn.execute(SKILL_SETTINGS)
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows

    async def _from_rollup(
        self, q: JobStatsQuery, read: RollupRead | None, first: int | None
    ) -> list[asyncpg.Record] | None:
        """The rollup's buckets for `q`; None when it cannot answer or is too stale."""
        if self._max_staleness is None or read is None:
            return None
        rows = await self._rows(rollup_statement(q, read, self._max_staleness, first=first))
        usable = bool(rows) and rows[0]["usable"]
        observe.sink.analytics_read("job_stats", "rollup" if usable else "stale")
        if not usable:
            return None
        return [r for r in rows if r["n"] is not None]

    async def job_stats(self, q: JobStatsQuery) -> list[JobBucket]:
        rows = await self._from_rollup(q, rollup_read(q), q.first)
        if rows is None:
            stmt = job_stats_statement(q)
            skills = JobGroup.SKILL in q.group_by
            rows = await (self._skill_rows(stmt) if skills else self._rows(stmt))
        return [_bucket(q, r) for r in rows]

    async def postings_timeseries(self, q: TimeseriesQuery) -> list[TimePoint]:
        rows = await self._rows(timeseries_statement(q))
        return [TimePoint(r["bucket"].replace(tzinfo=UTC), r["n"]) for r in rows]

    async def skill_demand(self, f: JobFilter) -> list[SkillDemand]:
        whole = JobStatsQuery(f, (JobGroup.SKILL,), StatsOrder.KEY_ASC, 0)
        read = WHOLE_BOARD_SKILLS if f == JobFilter() else None
        rows = await self._from_rollup(whole, read, None)
        if rows is None:
            rows = await self._skill_rows(demand_statement(f))
        return _demand(rows)

    async def funnel(self, q: FunnelQuery) -> Funnel:
        args = (q.job_id, q.company_id, q.scope_company_id, q.start, q.end)
        (row,) = await self._fetch(FUNNEL_SQL, *args)
        return _funnel(row)
