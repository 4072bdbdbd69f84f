"""The Query root: GraphQL arguments -> domain specs -> one page -> expanded edges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry

from domain.errors import InvalidInput
from domain.queries import Page, PageRequest
from domain.records import Application, Candidate, Company, Job
from resolvers import reads
from resolvers.context import Context
from schema import args as convert
from schema.analytics import Analytics, analytics_root
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


@dataclass(frozen=True, slots=True)
class RootConnection:
    """A root connection's argument handling and read, shared by every executor."""

    name: str
    convert_filter: Callable[[Any], Any]
    convert_order: Callable[[Any], Any]
    read: Callable[..., Awaitable[Page[Any]]]  # (ctx, spec, order, page, *, total[, fields])
    projects: bool = False  # `read` takes `fields`: records may carry only those

    def request(
        self, filter: Any, order_by: Any, window: tuple[Any, Any, Any, Any]
    ) -> tuple[Any, Any, PageRequest, str]:
        """(spec, order, page request, cursor kind); BAD_USER_INPUT before any I/O."""
        spec, order = self.convert_filter(filter), self.convert_order(order_by)
        kind = f"{self.name}:{order.field.value}:{order.direction.value}"
        first, after, last, before = window
        page = PageRequest.of(
            first,
            decode_cursor(after, kind) if after else None,
            last,
            decode_cursor(before, kind) if before else None,
        )
        return spec, order, page, kind


JOBS = RootConnection("jobs", convert.job_filter, convert.job_order, reads.jobs, projects=True)
COMPANIES = RootConnection(
    "companies", convert.company_filter, convert.company_order, reads.companies
)
CANDIDATES = RootConnection(
    "candidates", convert.candidate_filter, convert.candidate_order, reads.candidates
)
ROOT_CONNECTIONS = {r.name: r for r in (JOBS, COMPANIES, CANDIDATES)}


async def _connection(
    info: Info,
    root: RootConnection,
    args: tuple[Any, Any, tuple[Any, Any, Any, Any]],
    make_node: Callable[[Any], Any],
    connection: Any,
) -> Any:
    """One page (its total only when selected), its nodes, and their selected edges."""
    spec, order, page, kind = root.request(*args)
    wants = wants_of(info)
    found = await root.read(info.context, spec, order, page, total="totalCount" in wants)
    nodes = [make_node(record) for record in found.items]
    await expand(info.context, nodes, wants.child("edges", "node"))
    return connection.of(found, nodes, kind)


async def company_record(
    ctx: Context, id: str | None = None, slug: str | None = None
) -> Company | None:
    if (id is None) == (slug is None):
        raise InvalidInput("pass exactly one of `id` and `slug`")
    if id is not None:
        return await ctx.loaders.company.load(int_key(id, "Company"))
    return await ctx.loaders.company_by_slug.load(str(slug))


async def job_record(ctx: Context, id: str) -> Job | None:
    return await ctx.loaders.job.load(int_key(id, "Job"))


async def candidate_record(ctx: Context, id: str) -> Candidate | None:
    return await ctx.loaders.candidate.load(from_global_id(id, "Candidate"))


async def application_record(ctx: Context, id: str) -> Application | None:
    return await ctx.loaders.application.load(int_key(id, "Application"))


# The single-entity roots: each loads one record by its arguments (all executors share them).
ROOT_RECORDS: dict[str, Callable[..., Awaitable[Any]]] = {
    "company": company_record,
    "job": job_record,
    "candidate": candidate_record,
    "application": application_record,
}


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
        record = await company_record(info.context, id, slug)
        return await _one(info, CompanyType.from_record(record) if record else None)

    @strawberry.field(description="Companies (Relay connection, keyset paged).")
    async def companies(
        self, info: Info, filter: CompanyFilter | None = None,
        order_by: CompanyOrderBy = CompanyOrderBy.NAME_ASC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CompanyConnection | None:  # fmt: skip
        window = (first, after, last, before)
        result: CompanyConnection = await _connection(
            info, COMPANIES, (filter, order_by, window), CompanyType.from_record, CompanyConnection
        )
        return result

    @strawberry.field(description="A job by global ID.")
    async def job(self, info: Info, id: strawberry.ID) -> JobType | None:
        record = await job_record(info.context, id)
        return await _one(info, JobType.from_record(record) if record else None)

    @strawberry.field(description="Jobs (default: open, newest first). Relay connection.")
    async def jobs(
        self, info: Info, filter: JobFilter | None = None,
        order_by: JobOrderBy = JobOrderBy.POSTED_AT_DESC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> JobConnection | None:  # fmt: skip
        window = (first, after, last, before)
        result: JobConnection = await _connection(
            info, JOBS, (filter, order_by, window), JobType.from_record, JobConnection
        )
        return result

    @strawberry.field(description="A candidate profile by global ID.")
    async def candidate(self, info: Info, id: strawberry.ID) -> CandidateType | None:
        record = await candidate_record(info.context, id)
        return await _one(info, CandidateType.from_record(record) if record else None)

    @strawberry.field(description="Candidate profiles (Relay connection, keyset paged).")
    async def candidates(
        self, info: Info, filter: CandidateFilter | None = None,
        order_by: CandidateOrderBy = CandidateOrderBy.UPDATED_AT_DESC,
        first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CandidateConnection | None:  # fmt: skip
        window = (first, after, last, before)
        result: CandidateConnection = await _connection(
            info,
            CANDIDATES,
            (filter, order_by, window),
            CandidateType.from_record,
            CandidateConnection,
        )
        return result

    @strawberry.field(description="An application by global ID.")
    async def application(self, info: Info, id: strawberry.ID) -> ApplicationType | None:
        record = await application_record(info.context, id)
        return await _one(info, ApplicationType.from_record(record) if record else None)

    @strawberry.field(description="Aggregates (ANALYST, ADMIN; a RECRUITER's own company).")
    def analytics(self, info: Info) -> Analytics | None:
        return analytics_root(info)


__all__ = ["Query"]
