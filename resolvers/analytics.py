"""Analytics reads: the viewer's scope applied, then one store aggregate per call.

Who may ask (`domain.analytics.analytics_company`): ANALYST and ADMIN over everything,
a RECRUITER over their own company (its jobs, its applications, its applicants'
profiles), anyone else FORBIDDEN. The scope is applied to the specification before
the store is asked, so a recruiter's figures never include another company's rows.
"""

from __future__ import annotations

import asyncio

from datasources.ports import CandidateAnalytics, JobAnalytics
from domain import policy
from domain.analytics import (
    CandidateBucket,
    CandidateStatsQuery,
    Funnel,
    FunnelQuery,
    JobBucket,
    JobStatsQuery,
    SkillGap,
    TimePoint,
    TimeseriesQuery,
    analytics_company,
    scoped_funnel,
    scoped_jobs,
    skills_gap,
)
from domain.errors import UpstreamUnavailable
from domain.queries import CandidateFilter
from resolvers.context import Context


def _jobs(ctx: Context) -> JobAnalytics:
    if ctx.datasources.job_analytics is None:
        raise UpstreamUnavailable("postgres", "analytics are not configured")
    return ctx.datasources.job_analytics


def _candidates(ctx: Context) -> CandidateAnalytics:
    if ctx.datasources.candidate_analytics is None:
        raise UpstreamUnavailable("mongo", "analytics are not configured")
    return ctx.datasources.candidate_analytics


def check_access(ctx: Context) -> None:
    """FORBIDDEN for viewers without analytics; called by the `analytics` root field."""
    analytics_company(ctx.viewer)


async def job_stats(ctx: Context, q: JobStatsQuery) -> list[JobBucket]:
    scoped = JobStatsQuery(scoped_jobs(ctx.viewer, q.filter), q.group_by, q.order, q.first)
    if scoped.first == 0:
        return []
    return await _jobs(ctx).job_stats(scoped)


async def postings_timeseries(ctx: Context, q: TimeseriesQuery) -> list[TimePoint]:
    scoped = TimeseriesQuery(scoped_jobs(ctx.viewer, q.filter), q.interval, q.start, q.end)
    return await _jobs(ctx).postings_timeseries(scoped)


async def application_funnel(ctx: Context, q: FunnelQuery) -> Funnel:
    return await _jobs(ctx).funnel(scoped_funnel(ctx.viewer, q))


async def _candidate_scope(ctx: Context, f: CandidateFilter) -> CandidateFilter | None:
    """The filter narrowed to the profiles the viewer's aggregates cover (a recruiter:
    their company's applicants); None when that is nobody."""
    company = analytics_company(ctx.viewer)
    applicants = None
    if company is not None:
        applicants = await ctx.datasources.applications.applicants(company)
    return policy.candidate_filter(ctx.viewer, f, applicants)


async def candidate_stats(ctx: Context, q: CandidateStatsQuery) -> list[CandidateBucket]:
    scoped = await _candidate_scope(ctx, q.filter)
    if scoped is None or q.first == 0:
        return []
    return await _candidates(ctx).candidate_stats(CandidateStatsQuery(scoped, q.group_by, q.first))


async def skills_gap_of(
    ctx: Context, jobs: JobStatsQuery, candidates: CandidateFilter
) -> list[SkillGap]:
    """Demand (Postgres) and supply (Mongo) read concurrently, joined here by skill."""
    job_filter = scoped_jobs(ctx.viewer, jobs.filter)
    scoped = await _candidate_scope(ctx, candidates)
    if jobs.first == 0:
        return []
    demand_read = _jobs(ctx).skill_demand(job_filter)
    if scoped is None:
        return skills_gap(await demand_read, {}, jobs.first)
    demand, supply = await asyncio.gather(demand_read, _candidates(ctx).skill_supply(scoped, None))
    return skills_gap(demand, supply, jobs.first)
