"""GraphQL argument values -> domain read specifications.

Arguments reach us in two ways: as a root resolver's converted parameters (Strawberry
input objects), and as the coerced values that the edge expander and compiled operations
read from the selection (graphql-core's dicts keyed by GraphQL field names). Both are
taken, through `_view`; enum members may arrive as members, values or names, and all
three are taken too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from strawberry.utils.str_converters import to_camel_case

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


class _InputView:
    """Attribute access by Python name to an input object that graphql-core left a dict."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, python_name: str) -> Any:
        return self._values.get(to_camel_case(python_name))


def _view(value: Any) -> Any:
    return _InputView(value) if isinstance(value, Mapping) else value


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


def job_filter(f: inputs.JobFilter | Mapping[str, Any] | None) -> JobFilter:
    if f is None:
        return JobFilter()
    v: Any = _view(f)
    salary = None
    if v.salary is not None:
        s = _view(v.salary)
        salary = SalaryFilter(currency=s.currency.upper(), min=s.min, max=s.max)
    statuses = _enums(JobStatus, v.status)
    return JobFilter(
        search=v.search,
        company_ids=None
        if v.company_ids is None
        else tuple(int_key(i, "Company") for i in v.company_ids),
        cities=_strings(v.locations),
        countries=_strings(v.countries),
        remote=_enums(RemotePolicy, v.remote),
        employment_types=_enums(EmploymentType, v.employment_types),
        seniorities=_enums(Seniority, v.seniorities),
        salary=salary,
        skills_any=_strings(v.skills_any),
        skills_all=_strings(v.skills_all),
        posted_after=_when(v.posted_after),
        posted_before=_when(v.posted_before),
        statuses=statuses if statuses else (JobStatus.OPEN,),
    )


def job_order(value: Any) -> JobOrder:
    field, direction = _order(value or inputs.JobOrderBy.POSTED_AT_DESC)
    return JobOrder(JobOrderField(field), direction)


def company_filter(f: inputs.CompanyFilter | Mapping[str, Any] | None) -> CompanyFilter:
    if f is None:
        return CompanyFilter()
    v: Any = _view(f)
    return CompanyFilter(search=v.search, industries=_strings(v.industries))


def company_order(value: Any) -> CompanyOrder:
    field, direction = _order(value or inputs.CompanyOrderBy.NAME_ASC)
    return CompanyOrder(CompanyOrderField(field), direction)


def candidate_filter(f: inputs.CandidateFilter | Mapping[str, Any] | None) -> CandidateFilter:
    if f is None:
        return CandidateFilter()
    v: Any = _view(f)
    return CandidateFilter(
        skills_all=_strings(v.skills_all),
        skills_any=_strings(v.skills_any),
        min_skill_level=v.min_skill_level,
        min_years_experience=v.min_years_experience,
        countries=_strings(v.countries),
        cities=_strings(v.cities),
        open_to_remote=v.open_to_remote,
        search=v.search,
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
