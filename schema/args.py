"""GraphQL argument values -> domain read specifications.

Arguments reach us in two ways: as a root resolver's converted parameters, and as the
coerced values the edge expander reads from the selection. Both give Strawberry input
objects; enum members may arrive as members, values or names, and all three are taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from domain.enums import ApplicationStatus, EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.errors import InvalidInput
from domain.queries import (
    ApplicationFilter,
    CandidateFilter,
    CandidateOrder,
    CandidateOrderField,
    CompanyFilter,
    CompanyOrder,
    CompanyOrderField,
    Direction,
    JobFilter,
    JobOrder,
    JobOrderField,
    SalaryFilter,
    check_page_size,
)
from schema import inputs
from schema.ids import int_key

E = TypeVar("E", bound=Enum)


def enum_of(cls: type[E], value: Any) -> E:
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        try:
            return cls[str(value)]
        except KeyError:
            raise InvalidInput(f"unknown {cls.__name__} value {value!r}") from None


def _enums(cls: type[E], values: Iterable[Any] | None) -> tuple[E, ...] | None:
    return None if values is None else tuple(enum_of(cls, v) for v in values)


def _strings(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _when(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _order(value: Any) -> tuple[str, Direction]:
    raw = value.value if isinstance(value, Enum) else str(value)
    field, _, direction = raw.partition(":")
    return field, Direction(direction)


def job_filter(f: inputs.JobFilter | None) -> JobFilter:
    if f is None:
        return JobFilter()
    salary = None
    if f.salary is not None:
        salary = SalaryFilter(
            currency=f.salary.currency.upper(), min=f.salary.min, max=f.salary.max
        )
    statuses = _enums(JobStatus, f.status)
    return JobFilter(
        search=f.search,
        company_ids=None
        if f.company_ids is None
        else tuple(int_key(i, "Company") for i in f.company_ids),
        cities=_strings(f.locations),
        countries=_strings(f.countries),
        remote=_enums(RemotePolicy, f.remote),
        employment_types=_enums(EmploymentType, f.employment_types),
        seniorities=_enums(Seniority, f.seniorities),
        salary=salary,
        skills_any=_strings(f.skills_any),
        skills_all=_strings(f.skills_all),
        posted_after=_when(f.posted_after),
        posted_before=_when(f.posted_before),
        statuses=statuses if statuses else (JobStatus.OPEN,),
    )


def job_order(value: Any) -> JobOrder:
    field, direction = _order(value or inputs.JobOrderBy.POSTED_AT_DESC)
    return JobOrder(JobOrderField(field), direction)


def company_filter(f: inputs.CompanyFilter | None) -> CompanyFilter:
    if f is None:
        return CompanyFilter()
    return CompanyFilter(search=f.search, industries=_strings(f.industries))


def company_order(value: Any) -> CompanyOrder:
    field, direction = _order(value or inputs.CompanyOrderBy.NAME_ASC)
    return CompanyOrder(CompanyOrderField(field), direction)


def candidate_filter(f: inputs.CandidateFilter | None) -> CandidateFilter:
    if f is None:
        return CandidateFilter()
    return CandidateFilter(
        skills_all=_strings(f.skills_all),
        skills_any=_strings(f.skills_any),
        min_skill_level=f.min_skill_level,
        min_years_experience=f.min_years_experience,
        countries=_strings(f.countries),
        cities=_strings(f.cities),
        open_to_remote=f.open_to_remote,
        search=f.search,
    )


def candidate_order(value: Any) -> CandidateOrder:
    field, direction = _order(value or inputs.CandidateOrderBy.UPDATED_AT_DESC)
    return CandidateOrder(CandidateOrderField(field), direction)


def application_filter(statuses: Iterable[Any] | None) -> ApplicationFilter:
    return ApplicationFilter(statuses=_enums(ApplicationStatus, statuses))


def nested_first(value: Any, default: int = 10) -> int:
    first = default if value is None else int(value)
    check_page_size(first)
    return first
