"""The Query root: thin adapters from GraphQL arguments to resolver calls."""

from __future__ import annotations

import strawberry

from resolvers import candidates, companies, jobs
from resolvers.context import Context
from schema.ids import from_global_id, parse_job_cursor
from schema.selection import wants_of
from schema.types.candidate import CandidateType
from schema.types.company import CompanyType
from schema.types.job import JobConnection

Info = strawberry.Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="A company by its URL slug.")
    async def company(self, info: Info, slug: str) -> CompanyType | None:
        record = await companies.company_by_slug(info.context, slug)
        return CompanyType.from_record(record) if record else None

    @strawberry.field(description="Open jobs, newest first (Relay connection, keyset paged).")
    async def jobs(self, info: Info, first: int = 20, after: str | None = None) -> JobConnection:
        cursor = parse_job_cursor(after) if after else None
        node = wants_of(info.selected_fields).get("edges", "node")
        page = await jobs.job_board(info.context, first, cursor, node or wants_of([]))
        return JobConnection.from_page(page)

    @strawberry.field(description="A candidate profile by global ID.")
    async def candidate(self, info: Info, id: strawberry.ID) -> CandidateType | None:
        key = from_global_id(id, "Candidate")
        record = await candidates.candidate_by_id(info.context, key)
        return CandidateType.from_record(record) if record else None
