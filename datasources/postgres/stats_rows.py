"""The rows every job aggregate groups: one per matching job (or per (job, skill) row of
`job_skills`), with its group keys, currency and salary value. The live statements
(`analytics`) and the rollup's refresh (`rollup`) group the same rows, so both give the
same figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Table, cast, func, literal, select
from sqlalchemy.types import Text

from datasources.postgres.job_sql import job_conditions
from datasources.postgres.tables import companies, job_skills, jobs
from domain.analytics import JobGroup
from domain.queries import JobFilter


def utc(column: Any) -> ColumnElement[Any]:
    return func.timezone("UTC", column)  # timestamptz -> UTC wall time (timestamp)


def _salary() -> ColumnElement[Any]:
    """A job's salary value: the midpoint of its range, or its one bound (job_skills
    stores the same expression as its generated `salary` column)."""
    c = jobs.c
    both = (cast(c.salary_min, Float) + cast(c.salary_max, Float)) * literal(0.5, Float)
    return func.coalesce(both, cast(c.salary_min, Float), cast(c.salary_max, Float))


_TEXT = frozenset({JobGroup.INDUSTRY, JobGroup.COUNTRY, JobGroup.CITY})


def bytewise(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # Group keys sort bytewise: several times cheaper than the locale's collation.
    return cast(column, Text).collate("C")


def _dimension(group: JobGroup, source: Table) -> ColumnElement[Any]:
    """A group key over `source`: jobs, or job_skills when grouping by SKILL (its skill
    column is already `COLLATE "C"`)."""
    c = source.c
    if group is JobGroup.SKILL:
        return c.skill.label("g_skill")
    columns: dict[JobGroup, ColumnElement[Any]] = {
        JobGroup.COMPANY: c.company_id,
        JobGroup.INDUSTRY: companies.c.industry,
        JobGroup.COUNTRY: c.country,
        JobGroup.CITY: c.city,
        JobGroup.REMOTE: c.remote,
        JobGroup.EMPLOYMENT_TYPE: c.employment_type,
        JobGroup.SENIORITY: c.seniority,
        JobGroup.POSTED_WEEK: func.date_trunc("week", utc(c.posted_at)),
        JobGroup.POSTED_MONTH: func.date_trunc("month", utc(c.posted_at)),
    }
    column = bytewise(columns[group]) if group in _TEXT else columns[group]
    return column.label(f"g_{group.value}")


def job_stats_rows(
    f: JobFilter, groups: tuple[JobGroup, ...], t: Table, *, company_name: bool
) -> Select[Any]:
    """One row per matching job (or (job, skill) row of `t` = job_skills): its group
    keys `g_<group>`, `company_name` if asked, `currency` and salary value `v`. The
    rollup (`datasources.postgres.rollup`) groups the same rows."""
    source: Any = t
    if JobGroup.INDUSTRY in groups or JobGroup.COMPANY in groups:
        source = source.join(companies, companies.c.id == t.c.company_id)
    extra = [companies.c.name.label("company_name")] if company_name else []
    currency: ColumnElement[Any]
    value: ColumnElement[Any]
    if t is job_skills:
        currency, value = t.c.salary_currency, t.c.salary
    else:
        currency, value = bytewise(jobs.c.salary_currency), _salary()
    return (
        select(
            *(_dimension(g, t) for g in groups), *extra,
            currency.label("currency"), value.label("v"),
        )
        .select_from(source)
        .where(job_conditions(f, t))
    )  # fmt: skip
