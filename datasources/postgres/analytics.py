"""PostgreSQL aggregates: one statement per request, nothing but the result rows returned.

Every job aggregate reuses `job_conditions`, so a filter means the same as on `jobs`.
Times are bucketed in UTC (`AT TIME ZONE 'UTC'`), whatever the session's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    cast,
    func,
    literal,
    literal_column,
    nulls_last,
    select,
    text,
    true,
)
from sqlalchemy.types import Text

from datasources.postgres.job_sql import job_conditions
from datasources.postgres.reader import PgReader
from datasources.postgres.tables import companies, jobs
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

_SKILL = func.unnest(jobs.c.skills).table_valued("skill").render_derived("s")


def _utc(column: Any) -> ColumnElement[Any]:
    return func.timezone("UTC", column)  # timestamptz -> UTC wall time (timestamp)


def _salary() -> ColumnElement[Any]:
    """A job's salary value: the midpoint of its range, or its one bound."""
    c = jobs.c
    both = (cast(c.salary_min, Float) + cast(c.salary_max, Float)) * literal(0.5, Float)
    return func.coalesce(both, cast(c.salary_min, Float), cast(c.salary_max, Float))


_TEXT = frozenset({JobGroup.INDUSTRY, JobGroup.COUNTRY, JobGroup.CITY, JobGroup.SKILL})


def _bytewise(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # Group keys sort bytewise: several times cheaper than the locale's collation.
    return cast(column, Text).collate("C")


def _dimension(group: JobGroup) -> ColumnElement[Any]:
    c = jobs.c
    columns: dict[JobGroup, ColumnElement[Any]] = {
        JobGroup.COMPANY: c.company_id,
        JobGroup.INDUSTRY: companies.c.industry,
        JobGroup.COUNTRY: c.country,
        JobGroup.CITY: c.city,
        JobGroup.REMOTE: c.remote,
        JobGroup.EMPLOYMENT_TYPE: c.employment_type,
        JobGroup.SENIORITY: c.seniority,
        JobGroup.SKILL: _SKILL.c.skill,
        JobGroup.POSTED_WEEK: func.date_trunc("week", _utc(c.posted_at)),
        JobGroup.POSTED_MONTH: func.date_trunc("month", _utc(c.posted_at)),
    }
    column = _bytewise(columns[group]) if group in _TEXT else columns[group]
    return column.label(f"g_{group.value}")


def _from(groups: tuple[JobGroup, ...]) -> Any:
    source: Any = jobs
    if JobGroup.INDUSTRY in groups or JobGroup.COMPANY in groups:
        source = source.join(companies, companies.c.id == jobs.c.company_id)
    if JobGroup.SKILL in groups:
        source = source.outerjoin(_SKILL, true())  # a job without skills: skill null
    return source


def job_stats_statement(q: JobStatsQuery) -> Select[Any]:
    """Keys and each job's salary value computed once per row (inner), then grouped."""
    extra = [companies.c.name.label("company_name")] if JobGroup.COMPANY in q.group_by else []
    rows = (
        select(
            *(_dimension(g) for g in q.group_by), *extra,
            _bytewise(jobs.c.salary_currency).label("currency"), _salary().label("v"),
        )
        .select_from(_from(q.group_by))
        .where(job_conditions(q.filter))
        .subquery("x")
    )  # fmt: skip
    keys = [rows.c[f"g_{g.value}"] for g in q.group_by]
    keys += [rows.c.company_name] if extra else []
    keys.append(rows.c.currency)
    v = rows.c.v
    stmt = select(
        *keys, func.count().label("n"), func.count(v).label("n_salary"),
        func.min(v).label("lo"), func.max(v).label("hi"), func.avg(v).label("avg"),
        func.percentile_cont(0.5).within_group(v).label("p50"),
        func.percentile_cont(0.9).within_group(v).label("p90"),
    ).group_by(*keys)  # fmt: skip
    tie: list[ColumnElement[Any]] = [literal_column(str(i + 1)) for i in range(len(keys))]
    orders: dict[StatsOrder, list[Any]] = {
        StatsOrder.COUNT_DESC: [literal_column("n").desc()],
        StatsOrder.COUNT_ASC: [literal_column("n").asc()],
        StatsOrder.SALARY_P50_DESC: [nulls_last(literal_column("p50").desc())],
        StatsOrder.SALARY_P50_ASC: [nulls_last(literal_column("p50").asc())],
        StatsOrder.KEY_ASC: [],
    }
    return stmt.order_by(*orders[q.order], *tie).limit(q.first)


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
    posted = _utc(jobs.c.posted_at)
    counted = (
        select(func.date_trunc(unit, posted).label("bucket"), func.count().label("n"))
        .where(job_conditions(q.filter), jobs.c.posted_at >= q.start, jobs.c.posted_at < q.end)
        .group_by(literal_column("1"))
        .cte("counted")
    )
    buckets = select(
        func.generate_series(
            func.date_trunc(unit, _utc(literal(q.start))),
            _utc(literal(q.end)) - text("interval '1 microsecond'"),
            text(f"interval '1 {unit}'"),  # unit: our own enum value
        ).label("bucket")
    ).subquery("b")
    return (
        select(buckets.c.bucket, func.coalesce(counted.c.n, 0).label("n"))
        .select_from(buckets.outerjoin(counted, counted.c.bucket == buckets.c.bucket))
        .order_by(buckets.c.bucket)
    )


def demand_statement(f: JobFilter) -> Select[Any]:
    """Per (skill, currency): jobs asking for it, and their median salary."""
    value = _salary()
    return (
        select(
            _SKILL.c.skill,
            cast(jobs.c.salary_currency, Text).label("currency"),
            func.count().label("n"),
            func.percentile_cont(0.5).within_group(value).label("median"),
        )
        .select_from(jobs.join(_SKILL, true()))
        .where(job_conditions(f))
        .group_by(_SKILL.c.skill, jobs.c.salary_currency)
    )


def _demand(rows: list[Any]) -> list[SkillDemand]:
    counts: dict[str, int] = {}
    medians: dict[str, dict[str, float]] = {}
    for r in rows:
        counts[r["skill"]] = counts.get(r["skill"], 0) + r["n"]
        if r["currency"] is not None and r["median"] is not None:
            medians.setdefault(r["skill"], {})[r["currency"].strip()] = r["median"]
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
    """Job and application aggregates (`datasources.ports.JobAnalytics`)."""

    async def job_stats(self, q: JobStatsQuery) -> list[JobBucket]:
        rows = await self._rows(job_stats_statement(q))
        return [_bucket(q, r) for r in rows]

    async def postings_timeseries(self, q: TimeseriesQuery) -> list[TimePoint]:
        rows = await self._rows(timeseries_statement(q))
        return [TimePoint(r["bucket"].replace(tzinfo=UTC), r["n"]) for r in rows]

    async def skill_demand(self, f: JobFilter) -> list[SkillDemand]:
        return _demand(await self._rows(demand_statement(f)))

    async def funnel(self, q: FunnelQuery) -> Funnel:
        args = (q.job_id, q.company_id, q.scope_company_id, q.start, q.end)
        (row,) = await self._fetch(FUNNEL_SQL, *args)
        return _funnel(row)
