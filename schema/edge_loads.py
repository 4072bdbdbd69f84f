"""Record-level edge loads: GraphQL arguments -> one batch through the request's loaders.

Both executors use these: the edge expander (which wraps the records in Strawberry
objects) and the compiled operations (which render records directly). Each call loads
one edge for every parent key of a list in one batch, so a page costs one round trip
per edge and argument set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from domain.queries import Page
from domain.records import Candidate, Job
from resolvers.context import Context
from resolvers.loaders import ApplicationsArgs, JobsArgs
from schema import args as convert

Pages = list[Page[Any]] | None
Totals = list[int] | None


async def applications(
    ctx: Context,
    of_job: bool,
    raw: Mapping[str, Any],
    keys: Sequence[Any],
    page: bool,
    total: bool,
) -> tuple[Pages, Totals]:
    """Pages (when `page`) and totals (when `total`) of each job's or candidate's applications."""
    loaders = ctx.loaders
    pages_loader = loaders.applications_of_job if of_job else loaders.applications_of_candidate
    count_loader = (
        loaders.application_count_of_job if of_job else loaders.application_count_of_candidate
    )
    f = convert.application_filter(raw.get("status"))
    a = ApplicationsArgs(f, convert.nested_first(raw.get("first")))
    pages = pages_loader.load_many([(k, a) for k in keys]) if page else _none()
    totals = count_loader.load_many([(k, f) for k in keys]) if total else _none()
    got_pages, got_totals = await asyncio.gather(pages, totals)
    if got_pages:
        loaders.prime_applications([x for p in got_pages for x in p.items])
    return got_pages, got_totals


async def company_jobs(
    ctx: Context, raw: Mapping[str, Any], keys: Sequence[int], page: bool, total: bool
) -> tuple[Pages, Totals]:
    """Each company's newest jobs. There is no per-company count yet: totals stay null."""
    a = JobsArgs(convert.job_filter(raw.get("filter")), convert.nested_first(raw.get("first")))
    if not page:
        return None, None
    pages = await ctx.loaders.jobs_of_company.load_many([(k, a) for k in keys])
    ctx.loaders.prime_jobs([j for p in pages for j in p.items])
    return pages, None


async def matching_candidates(
    ctx: Context, raw: Mapping[str, Any], job_ids: Sequence[int]
) -> list[list[Candidate]]:
    first = convert.nested_first(raw.get("first"))
    return await ctx.loaders.matching_candidates.load_many([(j, first) for j in job_ids])


async def matching_jobs(
    ctx: Context, raw: Mapping[str, Any], candidate_ids: Sequence[str]
) -> list[list[Job]]:
    first = convert.nested_first(raw.get("first"))
    return await ctx.loaders.matching_jobs.load_many([(c, first) for c in candidate_ids])


async def _none() -> None:
    return None
