"""JobFilter / JobOrder -> SQLAlchemy Core. Every value is a bound parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Table,
    and_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from datasources.postgres.keyset import Keyset
from datasources.postgres.tables import jobs
from domain.enums import JobStatus
from domain.errors import InvalidInput
from domain.queries import Direction, JobFilter, JobOrder, JobOrderField

_REGCONFIG: ColumnElement[Any] = literal_column("'english'::regconfig")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts_query(search: str) -> ColumnElement[Any]:
    # websearch_to_tsquery never raises on user syntax ("quoted phrases", -negation, or).
    return func.websearch_to_tsquery(_REGCONFIG, cast(literal(search), Text))


def _text_array(values: tuple[str, ...]) -> ColumnElement[Any]:
    return cast(literal(list(values), ARRAY(Text)), ARRAY(Text))


def job_conditions(f: JobFilter, source: Table = jobs) -> ColumnElement[bool]:
    """The filter over `jobs`, or over `job_skills` (its copied columns have the same
    names): there, what only `jobs` holds (the search vector, the skills array) is a
    semi-join on the job id, so a filter means the same on both."""
    c = source.c
    conds: list[ColumnElement[bool]] = [c.status.in_(list(f.statuses))]
    if f.scope_company_id is not None:  # the viewer's scope (domain.policy.job_filter)
        conds.append(or_(c.status == JobStatus.OPEN, c.company_id == f.scope_company_id))
    if f.company_ids is not None:
        conds.append(c.company_id.in_(list(f.company_ids)))
    if f.cities is not None:
        conds.append(func.lower(c.city).in_(list(f.cities)))
    if f.countries is not None:
        conds.append(c.country.in_(list(f.countries)))
    if f.remote is not None:
        conds.append(c.remote.in_(list(f.remote)))
    if f.employment_types is not None:
        conds.append(c.employment_type.in_(list(f.employment_types)))
    if f.seniorities is not None:
        conds.append(c.seniority.in_(list(f.seniorities)))
    if f.salary is not None:
        # Ranges overlap [min, max]; currencies are never mixed.
        conds.append(c.salary_currency == f.salary.currency.upper())
        if f.salary.min is not None:
            conds.append(c.salary_max >= f.salary.min)
        if f.salary.max is not None:
            conds.append(c.salary_min <= f.salary.max)
    if f.posted_after is not None:
        conds.append(c.posted_at >= f.posted_after)
    if f.posted_before is not None:
        conds.append(c.posted_at < f.posted_before)
    on_jobs: list[ColumnElement[bool]] = []
    if f.search is not None:
        on_jobs.append(jobs.c.search.op("@@")(ts_query(f.search)))
    if f.skills_any is not None:
        on_jobs.append(jobs.c.skills.op("&&")(_text_array(f.skills_any)))
    if f.skills_all is not None:
        on_jobs.append(jobs.c.skills.op("@>")(_text_array(f.skills_all)))
    if source is jobs:
        conds += on_jobs
    elif on_jobs:
        conds.append(c.job_id.in_(select(jobs.c.id).where(*on_jobs)))
    return and_(true(), *conds)


def rank_expr(search: str) -> ColumnElement[Any]:
    return cast(func.ts_rank(jobs.c.search, ts_query(search)), Float)


def job_keyset(order: JobOrder, f: JobFilter) -> Keyset:
    desc = order.direction is Direction.DESC
    if order.field is JobOrderField.RELEVANCE:
        if f.search is None:
            raise InvalidInput("orderBy RELEVANCE needs filter.search")
        return Keyset([rank_expr(f.search), jobs.c.id], desc)
    if order.field is JobOrderField.SALARY_MAX:
        # Jobs without a salary sort as -1: last when descending, first when ascending.
        return Keyset([func.coalesce(jobs.c.salary_max, -1), jobs.c.id], desc)
    if JobStatus.DRAFT in f.statuses:
        # Drafts have no posted_at; the epoch keeps them in a total order.
        return Keyset([func.coalesce(jobs.c.posted_at, EPOCH), jobs.c.id], desc)
    # Posted jobs always have posted_at (a CHECK), so the plain column keeps the index order.
    return Keyset([jobs.c.posted_at, jobs.c.id], desc)
