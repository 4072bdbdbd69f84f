"""Read specifications: validated filters, orders and page requests, free of any store.

The schema layer builds these from GraphQL input; adapters translate them into
parameterised SQL or Mongo filters. Validation lives here so every entry point
(GraphQL, tests, later REST or jobs) rejects the same contradictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from domain.enums import ApplicationStatus, EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.errors import InvalidInput

MAX_PAGE = 100
T = TypeVar("T")


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


class JobOrderField(StrEnum):
    POSTED_AT = "posted_at"
    SALARY_MAX = "salary_max"
    RELEVANCE = "relevance"


class CompanyOrderField(StrEnum):
    NAME = "name"
    CREATED_AT = "created_at"


class CandidateOrderField(StrEnum):
    UPDATED_AT = "updated_at"
    YEARS_EXPERIENCE = "years_experience"


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of a keyset connection. `backward` pages come from `last`/`before`."""

    size: int
    after: tuple[object, ...] | None = None
    backward: bool = False

    @classmethod
    def of(
        cls,
        first: int | None,
        after: tuple[object, ...] | None,
        last: int | None,
        before: tuple[object, ...] | None,
        default: int = 20,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise InvalidInput("pass either `first` or `last`, not both")
        if last is None and before is not None:
            raise InvalidInput("`before` goes with `last`")
        if last is not None and after is not None:
            raise InvalidInput("`after` goes with `first`")
        size = last if last is not None else (first if first is not None else default)
        check_page_size(size, "last" if last is not None else "first")
        if last is not None:
            return cls(size=size, after=before, backward=True)
        return cls(size=size, after=after)


def check_page_size(size: int, name: str = "first") -> None:
    if size < 0 or size > MAX_PAGE:
        raise InvalidInput(f"`{name}` must be between 0 and {MAX_PAGE}, got {size}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Items of one page, with each item's sort key (what a cursor encodes)."""

    items: list[T]
    keys: list[tuple[object, ...]] = field(default_factory=list)
    has_next_page: bool = False
    has_previous_page: bool = False
    total: int | None = None


@dataclass(frozen=True, slots=True)
class SalaryFilter:
    currency: str
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidInput("salary.min must not exceed salary.max")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise InvalidInput("salary.currency must be an ISO 4217 code such as INR")


def _norm(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(dict.fromkeys(v.strip().lower() for v in values))


@dataclass(frozen=True, slots=True)
class JobFilter:
    search: str | None = None
    company_ids: tuple[int, ...] | None = None
    cities: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    remote: tuple[RemotePolicy, ...] | None = None
    employment_types: tuple[EmploymentType, ...] | None = None
    seniorities: tuple[Seniority, ...] | None = None
    salary: SalaryFilter | None = None
    skills_any: tuple[str, ...] | None = None
    skills_all: tuple[str, ...] | None = None
    posted_after: datetime | None = None
    posted_before: datetime | None = None
    statuses: tuple[JobStatus, ...] = (JobStatus.OPEN,)
    # Viewer scope, set by `domain.policy` (never from client input): when set, jobs of
    # other companies match only while OPEN; this company's match in any of `statuses`.
    scope_company_id: int | None = None

    def __post_init__(self) -> None:
        if self.posted_after and self.posted_before and self.posted_after >= self.posted_before:
            raise InvalidInput("postedAfter must be earlier than postedBefore")
        if self.search is not None and not self.search.strip():
            raise InvalidInput("search must not be blank")
        if self.search is not None and len(self.search) > 200:
            raise InvalidInput("search is limited to 200 characters")
        object.__setattr__(self, "skills_any", _norm(self.skills_any))
        object.__setattr__(self, "skills_all", _norm(self.skills_all))
        object.__setattr__(self, "cities", _norm(self.cities))
        if self.countries is not None:
            object.__setattr__(self, "countries", tuple(c.strip().upper() for c in self.countries))


@dataclass(frozen=True, slots=True)
class JobOrder:
    field: JobOrderField = JobOrderField.POSTED_AT
    direction: Direction = Direction.DESC


@dataclass(frozen=True, slots=True)
class CompanyFilter:
    search: str | None = None
    industries: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class CompanyOrder:
    field: CompanyOrderField = CompanyOrderField.NAME
    direction: Direction = Direction.ASC


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    skills_all: tuple[str, ...] | None = None
    skills_any: tuple[str, ...] | None = None
    min_skill_level: int | None = None
    min_years_experience: int | None = None
    countries: tuple[str, ...] | None = None
    cities: tuple[str, ...] | None = None
    open_to_remote: bool | None = None
    search: str | None = None
    # Viewer scope, set by `domain.policy`: only these profile ids (None: no restriction).
    ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.min_skill_level is not None and not 1 <= self.min_skill_level <= 5:
            raise InvalidInput("minSkillLevel must be between 1 and 5")
        if self.min_years_experience is not None and self.min_years_experience < 0:
            raise InvalidInput("minYearsExperience must not be negative")
        if self.search is not None and not self.search.strip():
            raise InvalidInput("search must not be blank")
        object.__setattr__(self, "skills_any", _norm(self.skills_any))
        object.__setattr__(self, "skills_all", _norm(self.skills_all))
        if self.countries is not None:
            object.__setattr__(self, "countries", tuple(c.strip().upper() for c in self.countries))


@dataclass(frozen=True, slots=True)
class CandidateOrder:
    field: CandidateOrderField = CandidateOrderField.UPDATED_AT
    direction: Direction = Direction.DESC


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Filter for a nested `applications` connection (and, by id, for single ones).

    `company_id` and `candidate_id` are the viewer's scope, set by `domain.policy` and
    never from client input: only applications to that company's jobs, or only that
    candidate's applications. Adapters apply them in the query itself.
    """

    statuses: tuple[ApplicationStatus, ...] | None = None
    company_id: int | None = None
    candidate_id: str | None = None


def check_job_query(f: JobFilter, order: JobOrder) -> None:
    """Rules that span the filter and the order."""
    if order.field is JobOrderField.RELEVANCE and f.search is None:
        raise InvalidInput("orderBy RELEVANCE needs filter.search")
