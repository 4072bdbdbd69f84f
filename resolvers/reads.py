"""Root reads: one page (and its total when asked) per call, loaders primed with it.

Priming means a later edge that needs the same entities (matching, Application.job)
finds them in the request's loaders instead of asking the store again.

Each read first narrows its filter to the viewer's scope (`domain.policy`), so the page,
its cursors and its total count only ever cover rows the viewer may see; when nothing
can match, the page is empty and no store is asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from domain import policy
from domain.policy import CandidateAccess
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


class _Searchable(Protocol[T]):
    def search(self, f: Any, order: Any, page: PageRequest) -> Awaitable[Page[T]]: ...

    def count(self, f: Any) -> Awaitable[int]: ...


async def _page(
    repo: _Searchable[T], f: Any, order: Any, page: PageRequest, total: bool,
    prime: Callable[[list[T]], None],
) -> Page[T]:  # fmt: skip
    """One page from `repo`, its total (concurrently) when asked, loaders primed."""
    if total:
        got, count = await asyncio.gather(repo.search(f, order, page), repo.count(f))
        got = replace(got, total=count)
    else:
        got = await repo.search(f, order, page)
    prime(got.items)
    return got


def _nothing(total: bool) -> Page[Any]:
    return Page([], total=0 if total else None)


async def jobs(
    ctx: Context, f: JobFilter, order: JobOrder, page: PageRequest, *, total: bool,
    fields: frozenset[str] | None = None,
) -> Page[Job]:  # fmt: skip
    """A page of jobs. With `fields` (the compiled path's projection), the records may
    carry only those fields, so they are not primed into the job loader."""
    check_job_query(f, order)
    scoped = policy.job_filter(ctx.viewer, f)
    if scoped is None:
        return _nothing(total)
    repo = ctx.datasources.jobs
    if fields is None:
        return await _page(repo, scoped, order, page, total, ctx.loaders.prime_jobs)
    search = repo.search(scoped, order, page, fields)
    if not total:
        return await search
    got, count = await asyncio.gather(search, repo.count(scoped))
    return replace(got, total=count)


async def companies(
    ctx: Context, f: CompanyFilter, order: CompanyOrder, page: PageRequest, *, total: bool
) -> Page[Company]:
    repo = ctx.datasources.companies
    return await _page(repo, f, order, page, total, ctx.loaders.prime_companies)


async def candidates(
    ctx: Context, f: CandidateFilter, order: CandidateOrder, page: PageRequest, *, total: bool
) -> Page[Candidate]:
    viewer, ds = ctx.viewer, ctx.datasources
    applicants = None
    if policy.candidate_access(viewer) is CandidateAccess.APPLICANTS:
        assert viewer.company_id is not None
        applicants = await ds.applications.applicants(viewer.company_id)
    scoped = policy.candidate_filter(viewer, f, applicants)
    if scoped is None:
        return _nothing(total)
    return await _page(ds.candidates, scoped, order, page, total, ctx.loaders.prime_candidates)
