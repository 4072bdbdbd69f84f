"""Relay connections. Cursors are encoded only when a client selects them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Self, TypeVar

import strawberry

from domain.queries import Page
from schema.ids import encode_cursor
from schema.types.application import ApplicationType
from schema.types.candidate import CandidateType
from schema.types.common import PageInfo
from schema.types.company import CompanyType
from schema.types.job import JobType


@strawberry.type
class _Edge:
    kind: strawberry.Private[str]
    key: strawberry.Private[tuple[object, ...]]

    @strawberry.field
    def cursor(self) -> str:
        return encode_cursor(self.kind, self.key)


@strawberry.type(name="JobEdge")
class JobEdge(_Edge):
    node: JobType


@strawberry.type(name="CompanyEdge")
class CompanyEdge(_Edge):
    node: CompanyType


@strawberry.type(name="CandidateEdge")
class CandidateEdge(_Edge):
    node: CandidateType


@strawberry.type(name="ApplicationEdge")
class ApplicationEdge(_Edge):
    node: ApplicationType


_EMPTY = PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


def _page_info(page: Page[Any], kind: str) -> PageInfo:
    if not page.items and not page.has_previous_page:
        return _EMPTY  # immutable in practice: nothing writes to a PageInfo
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=encode_cursor(kind, page.keys[0]) if page.keys else None,
        end_cursor=encode_cursor(kind, page.keys[-1]) if page.keys else None,
    )


E = TypeVar("E")


def _edges(edge: Callable[..., E], nodes: Sequence[Any], page: Page[Any], kind: str) -> list[E]:
    return [edge(node=n, kind=kind, key=k) for n, k in zip(nodes, page.keys, strict=True)]


@strawberry.type(name="JobConnection")
class JobConnection:
    edges: list[JobEdge]
    page_info: PageInfo
    total_count: int | None = strawberry.field(default=None, description="Null unless selected.")

    @classmethod
    def of(cls, page: Page[Any], nodes: Sequence[JobType], kind: str) -> Self:
        return cls(
            edges=_edges(JobEdge, nodes, page, kind),
            page_info=_page_info(page, kind),
            total_count=page.total,
        )


@strawberry.type(name="CompanyConnection")
class CompanyConnection:
    edges: list[CompanyEdge]
    page_info: PageInfo
    total_count: int | None = None

    @classmethod
    def of(cls, page: Page[Any], nodes: Sequence[CompanyType], kind: str) -> Self:
        return cls(
            edges=_edges(CompanyEdge, nodes, page, kind),
            page_info=_page_info(page, kind),
            total_count=page.total,
        )


@strawberry.type(name="CandidateConnection")
class CandidateConnection:
    edges: list[CandidateEdge]
    page_info: PageInfo
    total_count: int | None = None

    @classmethod
    def of(cls, page: Page[Any], nodes: Sequence[CandidateType], kind: str) -> Self:
        return cls(
            edges=_edges(CandidateEdge, nodes, page, kind),
            page_info=_page_info(page, kind),
            total_count=page.total,
        )


@strawberry.type(name="ApplicationConnection")
class ApplicationConnection:
    edges: list[ApplicationEdge]
    page_info: PageInfo
    total_count: int | None = None

    @classmethod
    def of(cls, page: Page[Any], nodes: Sequence[ApplicationType], kind: str) -> Self:
        return cls(
            edges=_edges(ApplicationEdge, nodes, page, kind),
            page_info=_page_info(page, kind),
            total_count=page.total,
        )
