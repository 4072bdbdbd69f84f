"""The Query root: GraphQL arguments -> domain specs -> one page -> expanded edges."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from domain.errors import InvalidInput
from domain.queries import PageRequest
from resolvers import reads
from schema import args as convert
from schema.expand import expand
from schema.ids import decode_cursor, from_global_id, int_key
from schema.info import Info
from schema.inputs import (
    CandidateFilter,
    CandidateOrderBy,
    CompanyFilter,
    CompanyOrderBy,
    JobFilter,
    JobOrderBy,
)
from schema.nodes import load_nodes
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.company import CompanyType
from schema.types.connections import CandidateConnection, CompanyConnection, JobConnection
from schema.types.job import JobType
from schema.types.node import Node
from schema.wants import wants_of

T = TypeVar("T")


def _page(
    kind: str, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest.of(
        first,
        decode_cursor(after, kind) if after else None,
        last,
        decode_cursor(before, kind) if before else None,
    )


async def _one(info: Info, obj: T) -> T:
    if obj is not None:
        await expand(info.context, [obj], wants_of(info))
    return obj


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global ID; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        (found,) = await load_nodes(info.context, [id])
        return await _one(info, found)

    @strawberry.field(description="Objects by global ID, in order; null for each one missing.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            raise InvalidInput("at most 100 ids per call")
        found = await load_nodes(info.context, ids)
        await expand(info.context, [n for n in found if n is not None], wants_of(info))
        return found

    @strawberry.field(description="A company by global ID or by URL slug (exactly one).")
    async def company(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> CompanyType | None:
        if (id is None) == (slug is None):
            raise InvalidInput("pass exactly one of `id` and `slug`")
        loaders = info.context.loaders
        record = await (
            loaders.company.load(int_key(id, "Company")) if id is not None
            else loaders.company_by_slug.load(str(slug))
        )  # fmt: skip
        return await _one(info, CompanyType.from_record(record) if record else None)

    @strawberry.field(description="Companies (Relay connection, keyset paged).")
    async def companies(
        self, info: Info, filter: CompanyFilter | None = None,
        order_by: CompanyOrderBy = CompanyOrderBy.NAME_ASC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CompanyConnection | None:  # fmt: skip
        order = convert.company_order(order_by)
        kind = f"companies:{order.field.value}:{order.direction.value}"
        page = _page(kind, first, after, last, before)
        wants = wants_of(info)
        found = await reads.companies(
            info.context, convert.company_filter(filter), order, page, total="totalCount" in wants
        )
        nodes = [CompanyType.from_record(c) for c in found.items]
        await expand(info.context, nodes, wants.child("edges", "node"))
        return CompanyConnection.of(found, nodes, kind)

    @strawberry.field(description="A job by global ID.")
    async def job(self, info: Info, id: strawberry.ID) -> JobType | None:
        record = await info.context.loaders.job.load(int_key(id, "Job"))
        return await _one(info, JobType.from_record(record) if record else None)

    @strawberry.field(description="Jobs (default: open, newest first). Relay connection.")
    async def jobs(
        self, info: Info, filter: JobFilter | None = None,
        order_by: JobOrderBy = JobOrderBy.POSTED_AT_DESC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> JobConnection | None:  # fmt: skip
        spec, order = convert.job_filter(filter), convert.job_order(order_by)
        kind = f"jobs:{order.field.value}:{order.direction.value}"
        page = _page(kind, first, after, last, before)
        wants = wants_of(info)
        found = await reads.jobs(info.context, spec, order, page, total="totalCount" in wants)
        nodes = [JobType.from_record(j) for j in found.items]
        await expand(info.context, nodes, wants.child("edges", "node"))
        return JobConnection.of(found, nodes, kind)

    @strawberry.field(description="A candidate profile by global ID.")
    async def candidate(self, info: Info, id: strawberry.ID) -> CandidateType | None:
        record = await info.context.loaders.candidate.load(from_global_id(id, "Candidate"))
        return await _one(info, CandidateType.from_record(record) if record else None)

    @strawberry.field(description="Candidate profiles (Relay connection, keyset paged).")
    async def candidates(
        self, info: Info, filter: CandidateFilter | None = None,
        order_by: CandidateOrderBy = CandidateOrderBy.UPDATED_AT_DESC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CandidateConnection | None:  # fmt: skip
        order = convert.candidate_order(order_by)
        kind = f"candidates:{order.field.value}:{order.direction.value}"
        page = _page(kind, first, after, last, before)
        wants = wants_of(info)
        found = await reads.candidates(
            info.context, convert.candidate_filter(filter), order, page, total="totalCount" in wants
        )
        nodes = [CandidateType.from_record(c) for c in found.items]
        await expand(info.context, nodes, wants.child("edges", "node"))
        return CandidateConnection.of(found, nodes, kind)

    @strawberry.field(description="An application by global ID.")
    async def application(self, info: Info, id: strawberry.ID) -> ApplicationType | None:
        record = await info.context.loaders.application.load(int_key(id, "Application"))
        return await _one(info, ApplicationType.from_record(record) if record else None)


__all__ = ["Query"]
