"""Analytics: aggregate specifications, their results, and who may ask. No I/O.

Aggregates are computed by the stores (GROUP BY, percentile_cont, $group); this module
holds what both sides agree on: the group dimensions, the validated requests, the
result records, the access rule, and the one join done in the gateway (skills gap).

Percentiles everywhere are PostgreSQL's `percentile_cont`: linear interpolation between
the two nearest ranks, position p * (n - 1) over the sorted values (`percentile`).

Salary statistics: a job's salary value is the midpoint of its range (the one bound
when only one is set); jobs without a salary count in `count` but not in the salary
statistics. The currency is part of every bucket, so amounts are never mixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from domain.enums import ApplicationStatus, JobStatus
from domain.errors import Forbidden, InvalidInput
from domain.queries import CandidateFilter, JobFilter
from domain.viewer import Role, Viewer

MAX_BUCKETS = 1000
"""Upper bound on the rows an aggregate returns (`first`) and on time-series buckets."""
DEFAULT_FIRST = 20


class JobGroup(StrEnum):
    COMPANY = "company"
    INDUSTRY = "industry"
    COUNTRY = "country"
    CITY = "city"
    REMOTE = "remote"
    EMPLOYMENT_TYPE = "employment_type"
    SENIORITY = "seniority"
    SKILL = "skill"
    POSTED_WEEK = "posted_week"
    POSTED_MONTH = "posted_month"


class StatsOrder(StrEnum):
    COUNT_DESC = "count_desc"
    COUNT_ASC = "count_asc"
    SALARY_P50_DESC = "salary_p50_desc"
    SALARY_P50_ASC = "salary_p50_asc"
    KEY_ASC = "key_asc"


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class CandidateGroup(StrEnum):
    SKILL = "skill"
    COUNTRY = "country"
    CITY = "city"
    YEARS_BUCKET = "years_bucket"
    OPEN_TO_REMOTE = "open_to_remote"


YEARS_BOUNDARIES = (0, 2, 5, 10, 15)
"""Years-of-experience buckets: [0,2) [2,5) [5,10) [10,15) [15,inf), labelled "0-1",
"2-4", "5-9", "10-14", "15+"."""


def years_label(years: float) -> str:
    for low, high in pairwise(YEARS_BOUNDARIES):
        if low <= years < high:
            return f"{low}-{high - 1}"
    return f"{YEARS_BOUNDARIES[-1]}+"


def percentile(values: Sequence[float], p: float) -> float | None:
    """`percentile_cont(p)`: linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def check_first(first: int | None) -> int:
    size = DEFAULT_FIRST if first is None else first
    if not 0 <= size <= MAX_BUCKETS:
        raise InvalidInput(f"`first` must be between 0 and {MAX_BUCKETS}, got {size}")
    return size


# -- requests -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobStatsQuery:
    filter: JobFilter
    group_by: tuple[JobGroup, ...]
    order: StatsOrder = StatsOrder.COUNT_DESC
    first: int = DEFAULT_FIRST

    def __post_init__(self) -> None:
        if len(set(self.group_by)) != len(self.group_by):
            raise InvalidInput("groupBy lists a dimension twice")
        if JobGroup.POSTED_WEEK in self.group_by and JobGroup.POSTED_MONTH in self.group_by:
            raise InvalidInput("group by POSTED_WEEK or POSTED_MONTH, not both")
        check_first(self.first)


_STEP = {Interval.DAY: timedelta(days=1), Interval.WEEK: timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class TimeseriesQuery:
    filter: JobFilter
    interval: Interval
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("`from` and `to` need a time zone (e.g. 2026-01-01T00:00:00Z)")
        if self.start >= self.end:
            raise InvalidInput("`from` must be earlier than `to`")
        if self.bucket_estimate() > MAX_BUCKETS:
            raise InvalidInput(
                f"at most {MAX_BUCKETS} buckets: widen the interval or shorten the range"
            )

    def bucket_estimate(self) -> int:
        """An upper bound on the buckets from `start` to `end` (each bucket's start)."""
        span = self.end - self.start
        if self.interval is Interval.MONTH:
            return int(span.days // 28) + 2
        return int(span / _STEP[self.interval]) + 2


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    """Exactly one of job_id and company_id; applications applied in [start, end)."""

    job_id: int | None = None
    company_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    scope_company_id: int | None = None  # the viewer's scope (RECRUITER), never input

    def __post_init__(self) -> None:
        if (self.job_id is None) == (self.company_id is None):
            raise InvalidInput("pass exactly one of `jobId` and `companyId`")
        if self.start and self.end and self.start >= self.end:
            raise InvalidInput("`from` must be earlier than `to`")


@dataclass(frozen=True, slots=True)
class CandidateStatsQuery:
    filter: CandidateFilter
    group_by: tuple[CandidateGroup, ...]
    first: int = DEFAULT_FIRST

    def __post_init__(self) -> None:
        if len(set(self.group_by)) != len(self.group_by):
            raise InvalidInput("groupBy lists a dimension twice")
        check_first(self.first)


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SalaryStats:
    count: int  # jobs with a salary in the bucket
    min: float | None
    max: float | None
    avg: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class JobBucket:
    keys: Mapping[JobGroup, object]  # the grouped dimensions only
    currency: str | None  # None: the bucket's jobs have no salary
    count: int
    salary: SalaryStats


@dataclass(frozen=True, slots=True)
class TimePoint:
    start: datetime
    count: int


@dataclass(frozen=True, slots=True)
class FunnelStage:
    status: ApplicationStatus
    count: int  # applications that reached this stage (or a later one)
    conversion: float | None  # count / previous stage's count; None for the first or 0
    median_days: float | None  # from the previous stage to this one
    p90_days: float | None


@dataclass(frozen=True, slots=True)
class Funnel:
    total: int
    stages: tuple[FunnelStage, ...]
    rejected: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class CandidateBucket:
    keys: Mapping[CandidateGroup, object]
    count: int
    avg_years: float | None


@dataclass(frozen=True, slots=True)
class SkillDemand:
    skill: str
    jobs: int
    median_salary: Mapping[str, float]  # per currency


@dataclass(frozen=True, slots=True)
class SkillGap:
    skill: str
    demand: int  # open jobs asking for it
    supply: int  # candidates having it
    ratio: float | None  # demand / supply; None when supply is 0
    median_salary: Mapping[str, float]


def skills_gap(
    demand: Sequence[SkillDemand], supply: Mapping[str, int], first: int
) -> list[SkillGap]:
    """Skills jobs ask for, against the candidates having them: the largest gap first.

    Only skills with demand are listed (a skill nobody asks for has no gap). Order:
    demand per candidate descending, a skill no candidate has counting as one candidate,
    then demand descending, then the name.
    """
    rows = [
        SkillGap(
            d.skill,
            d.jobs,
            supply.get(d.skill, 0),
            d.jobs / supply[d.skill] if supply.get(d.skill) else None,
            d.median_salary,
        )
        for d in demand
    ]
    rows.sort(key=lambda g: (-g.demand / max(g.supply, 1), -g.demand, g.skill))
    return rows[:first]


# -- access -------------------------------------------------------------------------------


def analytics_company(viewer: Viewer) -> int | None:
    """The company a viewer's aggregates are limited to (None: all); FORBIDDEN when the
    viewer may not read analytics at all (PUBLIC, CANDIDATE, a recruiter without one)."""
    if viewer.role in (Role.ANALYST, Role.ADMIN):
        return None
    if viewer.role is Role.RECRUITER and viewer.company_id is not None:
        return viewer.company_id
    raise Forbidden("analytics need the ANALYST or ADMIN role, or a recruiter's company")


def scoped_jobs(viewer: Viewer, f: JobFilter) -> JobFilter:
    """Job aggregates for a recruiter cover their own company's jobs (any status asked)."""
    company = analytics_company(viewer)
    if company is None:
        return f
    if f.company_ids is not None and company not in f.company_ids:
        return replace(f, company_ids=(), statuses=(JobStatus.OPEN,))  # matches nothing
    return replace(f, company_ids=(company,))


def scoped_funnel(viewer: Viewer, q: FunnelQuery) -> FunnelQuery:
    company = analytics_company(viewer)
    if company is None:
        return q
    if q.company_id is not None and q.company_id != company:
        raise Forbidden("a recruiter's funnel covers their own company only")
    return replace(q, scope_company_id=company)
