"""Company."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from domain.records import Company
from schema.enums import CompanySize
from schema.ids import to_global_id


@strawberry.type(name="Company")
class CompanyType:
    id: strawberry.ID
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

    @classmethod
    def from_record(cls, c: Company) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Company", c.id)),
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
        )
