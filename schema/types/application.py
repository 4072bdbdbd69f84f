"""Application: a candidate (MongoDB) applying to a job (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from domain.commands import StatusChange
from domain.records import Application
from schema.enums import ApplicationStatus
from schema.ids import to_global_id
from schema.info import Info
from schema.types.node import Node

if TYPE_CHECKING:
    from schema.types.candidate import CandidateType
    from schema.types.job import JobType


@strawberry.type(name="ApplicationStatusChange")
class ApplicationStatusChangeType:
    from_: ApplicationStatus | None = strawberry.field(
        name="from", description="Null for the first entry (the application itself)."
    )
    to: ApplicationStatus
    at: datetime
    by: str | None = strawberry.field(description="Who made the change, when known.")
    note: str | None

    @classmethod
    def from_record(cls, c: StatusChange) -> Self:
        return cls(from_=c.from_status, to=c.to_status, at=c.at, by=c.by, note=c.note)


@strawberry.type(name="Application")
class ApplicationType(Node):
    status: ApplicationStatus
    source: str
    applied_at: datetime
    updated_at: datetime
    record: strawberry.Private[Application]
    job: Annotated[JobType, strawberry.lazy("schema.types.job")] | None = None
    candidate: Annotated[CandidateType, strawberry.lazy("schema.types.candidate")] | None = (
        strawberry.field(default=None, description="Null when the profile is gone.")
    )

    @strawberry.field
    def id(self) -> strawberry.ID:
        """Opaque global ID (encoded only when selected)."""
        return strawberry.ID(to_global_id("Application", self.record.id))

    @strawberry.field(description="Status changes, oldest first.")
    async def history(self, info: Info) -> list[ApplicationStatusChangeType]:
        # One batch for every application of the response (the history loader).
        changes = await info.context.loaders.history.load(self.record.id)
        return [ApplicationStatusChangeType.from_record(c) for c in changes]

    @classmethod
    def from_record(cls, a: Application) -> Self:
        return cls(
            status=a.status,
            source=a.source,
            applied_at=a.applied_at,
            updated_at=a.updated_at,
            record=a,
        )
