"""Analytics output types, each built from its domain result with `from_record`."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain import analytics as a
from schema.enums import ApplicationStatus, EmploymentType, RemotePolicy, Seniority
from schema.ids import to_global_id

strawberry.enum(a.JobGroup, name="JobStatsGroupBy", description="Dimensions of `jobStats`.")
strawberry.enum(
    a.StatsOrder,
    name="JobStatsOrderBy",
    description="Bucket order; every order ends with the group keys as a tie-breaker.",
)
strawberry.enum(a.Interval, name="TimeInterval", description="Bucket width (UTC).")
strawberry.enum(
    a.CandidateGroup, name="CandidateStatsGroupBy", description="Dimensions of `candidateStats`."
)


_SALARY = (
    "Salary statistics of a bucket's jobs that state a salary: the midpoint of each "
    "range (or its one bound), in the bucket's currency."
)
_SALARY_COUNT = "Jobs with a salary (the others are in the bucket's count only)."


@strawberry.type(description=_SALARY)
class SalaryStats:
    count: int = strawberry.field(description=_SALARY_COUNT)
    min: float | None
    max: float | None
    avg: float | None
    p50: float | None = strawberry.field(description="percentile_cont(0.5)")
    p90: float | None = strawberry.field(description="percentile_cont(0.9)")

    @classmethod
    def from_record(cls, s: a.SalaryStats) -> Self:
        return cls(count=s.count, min=s.min, max=s.max, avg=s.avg, p50=s.p50, p90=s.p90)


@strawberry.type(description="One group of jobs. Only the grouped keys are set; the "
                 "currency is always part of the group, so amounts are never mixed.")  # fmt: skip
class JobStatsBucket:
    company_id: strawberry.ID | None
    company_name: str | None
    industry: str | None
    country: str | None
    city: str | None
    remote: RemotePolicy | None
    employment_type: EmploymentType | None
    seniority: Seniority | None
    skill: str | None
    posted_week: datetime | None = strawberry.field(description="Monday 00:00 UTC")
    posted_month: datetime | None
    currency: str | None = strawberry.field(description="null: the jobs state no salary")
    count: int
    salary: SalaryStats

    @classmethod
    def from_record(cls, b: a.JobBucket) -> Self:
        k, g = b.keys, a.JobGroup
        company = k.get(g.COMPANY)
        company_id, company_name = company if isinstance(company, tuple) else (None, None)
        return cls(
            company_id=None
            if company_id is None
            else strawberry.ID(to_global_id("Company", company_id)),
            company_name=company_name,
            industry=k.get(g.INDUSTRY),  # type: ignore[arg-type]
            country=k.get(g.COUNTRY),  # type: ignore[arg-type]
            city=k.get(g.CITY),  # type: ignore[arg-type]
            remote=k.get(g.REMOTE),  # type: ignore[arg-type]
            employment_type=k.get(g.EMPLOYMENT_TYPE),  # type: ignore[arg-type]
            seniority=k.get(g.SENIORITY),  # type: ignore[arg-type]
            skill=k.get(g.SKILL),  # type: ignore[arg-type]
            posted_week=k.get(g.POSTED_WEEK),  # type: ignore[arg-type]
            posted_month=k.get(g.POSTED_MONTH),  # type: ignore[arg-type]
            currency=b.currency,
            count=b.count,
            salary=SalaryStats.from_record(b.salary),
        )


@strawberry.type(description="Jobs posted in [start, start + interval).")
class TimeseriesPoint:
    start: datetime
    count: int


@strawberry.type
class FunnelStage:
    status: ApplicationStatus
    count: int = strawberry.field(description="Applications that reached this stage.")
    conversion: float | None = strawberry.field(
        description="count / the previous stage's count; null for APPLIED or when that is 0."
    )
    median_days: float | None = strawberry.field(
        description="Days from the previous stage to this one (status history)."
    )
    p90_days: float | None


@strawberry.type(description="Applications applied in [from, to): how far they got.")
class ApplicationFunnel:
    total: int
    stages: list[FunnelStage]
    rejected: int
    withdrawn: int

    @classmethod
    def from_record(cls, f: a.Funnel) -> Self:
        stages = [
            FunnelStage(
                status=s.status, count=s.count, conversion=s.conversion,
                median_days=s.median_days, p90_days=s.p90_days,
            )
            for s in f.stages
        ]  # fmt: skip
        return cls(total=f.total, stages=stages, rejected=f.rejected, withdrawn=f.withdrawn)


@strawberry.type(description="One group of candidate profiles; only grouped keys are set.")
class CandidateStatsBucket:
    skill: str | None
    country: str | None
    city: str | None
    years_bucket: str | None = strawberry.field(
        description='"0-1", "2-4", "5-9", "10-14" or "15+" years of experience'
    )
    open_to_remote: bool | None
    count: int
    avg_years_experience: float | None

    @classmethod
    def from_record(cls, b: a.CandidateBucket) -> Self:
        k, g = b.keys, a.CandidateGroup
        return cls(
            skill=k.get(g.SKILL),  # type: ignore[arg-type]
            country=k.get(g.COUNTRY),  # type: ignore[arg-type]
            city=k.get(g.CITY),  # type: ignore[arg-type]
            years_bucket=k.get(g.YEARS_BUCKET),  # type: ignore[arg-type]
            open_to_remote=k.get(g.OPEN_TO_REMOTE),  # type: ignore[arg-type]
            count=b.count,
            avg_years_experience=b.avg_years,
        )


@strawberry.type
class MedianSalary:
    currency: str
    median: float


@strawberry.type(description="Demand for a skill (open jobs) against supply (candidates).")
class SkillGap:
    skill: str
    demand: int = strawberry.field(description="Jobs matching the filter that ask for it.")
    supply: int = strawberry.field(description="Candidates matching that have it.")
    ratio: float | None = strawberry.field(description="demand / supply; null when supply is 0")
    median_salary: list[MedianSalary] = strawberry.field(
        description="Median salary of the jobs asking for it, per currency."
    )

    @classmethod
    def from_record(cls, g: a.SkillGap) -> Self:
        salaries = [MedianSalary(currency=c, median=m) for c, m in sorted(g.median_salary.items())]
        return cls(
            skill=g.skill, demand=g.demand, supply=g.supply, ratio=g.ratio,
            median_salary=salaries,
        )  # fmt: skip
