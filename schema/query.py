"""The Query root: GraphQL arguments -> domain specs -> one page -> expanded edges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from domain.errors import InvalidInput
from domain.queries import Page, PageRequest
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


async def _connection(
    info: Info,
    kind: str,
    window: tuple[int | None, str | None, int | None, str | None],
    read: Callable[[PageRequest, bool], Awaitable[Page[Any]]],
    make_node: Callable[[Any], Any],
    connection: Any,
) -> Any:
    """One page (its total only when selected), its nodes, and their selected edges."""
    first, after, last, before = window
    wants = wants_of(info)
    found = await read(_page(kind, first, after, last, before), "totalCount" in wants)
    nodes = [make_node(record) for record in found.items]
    await expand(info.context, nodes, wants.child("edges", "node"))
    return connection.of(found, nodes, kind)


def _kind(name: str, order: Any) -> str:
    return f"{name}:{order.field.value}:{order.direction.value}"


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
        spec, order = convert.company_filter(filter), convert.company_order(order_by)

        def read(page: PageRequest, total: bool) -> Awaitable[Page[Any]]:
            return reads.companies(info.context, spec, order, page, total=total)

        window = (first, after, last, before)
        kind = _kind("companies", order)
        result: CompanyConnection = await _connection(
            info, kind, window, read, CompanyType.from_record, CompanyConnection
        )
        return result

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

        def read(page: PageRequest, total: bool) -> Awaitable[Page[Any]]:
            return reads.jobs(info.context, spec, order, page, total=total)

        window = (first, after, last, before)
        kind = _kind("jobs", order)
        result: JobConnection = await _connection(
            info, kind, window, read, JobType.from_record, JobConnection
        )
        return result

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
        spec, order = convert.candidate_filter(filter), convert.candidate_order(order_by)

        def read(page: PageRequest, total: bool) -> Awaitable[Page[Any]]:
            return reads.candidates(info.context, spec, order, page, total=total)

        window = (first, after, last, before)
        kind = _kind("candidates", order)
        result: CandidateConnection = await _connection(
            info, kind, window, read, CandidateType.from_record, CandidateConnection
        )
        return result

    @strawberry.field(description="An application by global ID.")
    async def application(self, info: Info, id: strawberry.ID) -> ApplicationType | None:
        record = await info.context.loaders.application.load(int_key(id, "Application"))
        return await _one(info, ApplicationType.from_record(record) if record else None)


__all__ = ["Query"]
