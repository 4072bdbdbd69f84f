"""The `analytics` root field: aggregates pushed down to the stores.

`Query.analytics` checks the viewer once (FORBIDDEN for PUBLIC and CANDIDATE); each
field then converts its arguments (BAD_USER_INPUT before any store is asked) and reads
one aggregate through `resolvers.analytics`, which applies the recruiter's scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.analytics import (
    CandidateGroup,
    CandidateStatsQuery,
    FunnelQuery,
    Interval,
    JobGroup,
    JobStatsQuery,
    StatsOrder,
    TimeseriesQuery,
    check_first,
)
from resolvers import analytics as read
from schema import args as convert
from schema.analytics.types import (
    ApplicationFunnel,
    CandidateStatsBucket,
    JobStatsBucket,
    SkillGap,
    TimeseriesPoint,
)
from schema.ids import int_key
from schema.info import Info
from schema.inputs import CandidateFilter, JobFilter

_FUNNEL = (
    "Applications of one job or one company (exactly one), applied in [from, to): "
    "reach, conversion and days between stages."
)
_GAP = (
    "Per skill: jobs matching `filter` asking for it (default: open jobs) against "
    "candidates matching `candidateFilter` having it."
)


@strawberry.type(description="Aggregates for ANALYST and ADMIN; a RECRUITER's cover their "
                 "own company (its jobs, applications and applicants).")  # fmt: skip
class Analytics:
    @strawberry.field(description="Jobs matching `filter` (as on `jobs`), grouped: one SQL.")
    async def job_stats(
        self, info: Info, group_by: list[JobGroup], filter: JobFilter | None = None,
        order_by: StatsOrder = StatsOrder.COUNT_DESC, first: int | None = None,
    ) -> list[JobStatsBucket]:  # fmt: skip
        q = JobStatsQuery(convert.job_filter(filter), tuple(group_by), order_by, check_first(first))
        return [JobStatsBucket.from_record(b) for b in await read.job_stats(info.context, q)]

    @strawberry.field(description="Jobs posted per interval in [from, to); empty buckets "
                      "are 0. At most 1000 buckets.")  # fmt: skip
    async def postings_timeseries(
        self, info: Info, interval: Interval,
        from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime,
        filter: JobFilter | None = None,
    ) -> list[TimeseriesPoint]:  # fmt: skip
        q = TimeseriesQuery(convert.job_filter(filter), interval, from_, to)
        points = await read.postings_timeseries(info.context, q)
        return [TimeseriesPoint(start=p.start, count=p.count) for p in points]

    @strawberry.field(description=_FUNNEL)
    async def application_funnel(
        self, info: Info, job_id: strawberry.ID | None = None,
        company_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> ApplicationFunnel:  # fmt: skip
        q = FunnelQuery(
            job_id=None if job_id is None else int_key(job_id, "Job"),
            company_id=None if company_id is None else int_key(company_id, "Company"),
            start=from_, end=to,
        )  # fmt: skip
        return ApplicationFunnel.from_record(await read.application_funnel(info.context, q))

    @strawberry.field(description="Candidate profiles matching `filter`, grouped: one "
                      "aggregation pipeline.")  # fmt: skip
    async def candidate_stats(
        self, info: Info, group_by: list[CandidateGroup],
        filter: CandidateFilter | None = None, first: int | None = None,
    ) -> list[CandidateStatsBucket]:  # fmt: skip
        q = CandidateStatsQuery(
            convert.candidate_filter(filter), tuple(group_by), check_first(first)
        )
        found = await read.candidate_stats(info.context, q)
        return [CandidateStatsBucket.from_record(b) for b in found]

    @strawberry.field(description=_GAP)
    async def skills_gap(
        self, info: Info, filter: JobFilter | None = None,
        candidate_filter: CandidateFilter | None = None, first: int | None = None,
    ) -> list[SkillGap]:  # fmt: skip
        jobs = JobStatsQuery(
            convert.job_filter(filter), (JobGroup.SKILL,), first=check_first(first)
        )
        found = await read.skills_gap_of(
            info.context, jobs, convert.candidate_filter(candidate_filter)
        )
        return [SkillGap.from_record(g) for g in found]


def analytics_root(info: Info) -> Analytics:
    read.check_access(info.context)
    return Analytics()


__all__ = ["Analytics", "analytics_root"]
