"""Company."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from domain.records import Company
from schema.enums import CompanySize
from schema.ids import to_global_id
from schema.info import Info
from schema.inputs import JobFilter
from schema.types.node import Node, prefetched

if TYPE_CHECKING:
    from schema.types.connections import JobConnection


@strawberry.type(name="Company")
class CompanyType(Node):
    slug: str
    name: str
    industry: str
    size: CompanySize | None
    headquarters: str | None
    website: str | None
    founded_year: int | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[int]
    edges: strawberry.Private[dict[str, Any]] = field(default_factory=dict)

    @strawberry.field
    def jobs(
        self, info: Info, filter: JobFilter | None = None, first: int = 10
    ) -> Annotated[JobConnection, strawberry.lazy("schema.types.connections")]:
        """This company's jobs, newest first (status defaults to OPEN)."""
        result: JobConnection = prefetched(self.edges, info)
        return result

    @strawberry.field
    def id(self) -> strawberry.ID:
        """Opaque global ID (encoded only when selected)."""
        return strawberry.ID(to_global_id("Company", self.pk))

    @classmethod
    def from_record(cls, c: Company) -> Self:
        return cls(
            slug=c.slug,
            name=c.name,
            industry=c.industry,
            size=c.size,
            headquarters=c.headquarters,
            website=c.website,
            founded_year=c.founded_year,
            description=c.description,
            created_at=c.created_at,
            updated_at=c.updated_at,
            pk=c.id,
        )
