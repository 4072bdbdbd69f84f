"""Job reads: the job board page and its edges, each edge fetched once per list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datasources.ports import JobCursor
from domain.errors import InvalidInput
from domain.records import Company, Job
from resolvers.context import Context
from resolvers.wants import Wants

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class JobEdges:
    """Edges prefetched for a list of jobs, keyed by the parent's foreign key."""

    companies: dict[int, Company] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: list[Job]
    has_next_page: bool
    edges: JobEdges


def check_page_size(first: int) -> None:
    if first < 0 or first > MAX_PAGE:
        raise InvalidInput(f"`first` must be between 0 and {MAX_PAGE}, got {first}")


async def job_edges(ctx: Context, jobs: Sequence[Job], node: Wants) -> JobEdges:
    """Load every edge the query selected under `node`, one batch per edge."""
    if "company" not in node or not jobs:
        return JobEdges()
    ids = list(dict.fromkeys(j.company_id for j in jobs))
    loaded = await ctx.loaders.company.load_many(ids)
    return JobEdges(companies={c.id: c for c in loaded if c is not None})


async def job_board(ctx: Context, first: int, after: JobCursor | None, node: Wants) -> JobPage:
    check_page_size(first)
    rows = await ctx.datasources.jobs.open_page(first + 1, after) if first else []
    page = rows[:first]
    return JobPage(page, len(rows) > first, await job_edges(ctx, page, node))
