"""Root reads: one page (and its total when asked) per call, loaders primed with it.

Priming means a later edge that needs the same entities (matching, Application.job)
finds them in the request's loaders instead of asking the store again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from domain.queries import (
    CandidateFilter,
    CandidateOrder,
    CompanyFilter,
    CompanyOrder,
    JobFilter,
    JobOrder,
    Page,
    PageRequest,
    check_job_query,
)
from domain.records import Candidate, Company, Job
from resolvers.context import Context

T = TypeVar("T")


async def _with_total(page: Awaitable[Page[T]], total: Awaitable[int] | None) -> Page[T]:
    if total is None:
        return await page
    got, count = await asyncio.gather(page, total)
    return Page(got.items, got.keys, got.has_next_page, got.has_previous_page, count)


async def jobs(
    ctx: Context, f: JobFilter, order: JobOrder, page: PageRequest, *, total: bool
) -> Page[Job]:
    check_job_query(f, order)
    repo = ctx.datasources.jobs
    found = await _with_total(repo.search(f, order, page), repo.count(f) if total else None)
    ctx.loaders.prime_jobs(found.items)
    return found


async def companies(
    ctx: Context, f: CompanyFilter, order: CompanyOrder, page: PageRequest, *, total: bool
) -> Page[Company]:
    repo = ctx.datasources.companies
    found = await _with_total(repo.search(f, order, page), repo.count(f) if total else None)
    ctx.loaders.prime_companies(found.items)
    return found


async def candidates(
    ctx: Context, f: CandidateFilter, order: CandidateOrder, page: PageRequest, *, total: bool
) -> Page[Candidate]:
    repo = ctx.datasources.candidates
    found = await _with_total(repo.search(f, order, page), repo.count(f) if total else None)
    ctx.loaders.prime_candidates(found.items)
    return found
