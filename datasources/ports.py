"""Ports: what the resolvers need from the stores, as Protocols.

Batch reads (`get_many`) return one entry per key, in key order, `None` for a key
that does not exist, so they plug straight into a DataLoader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.records import Candidate, Company, Job

JobCursor = tuple[datetime, int]
"""Keyset position on the job board: (posted_at, id) of the last row seen."""


class CompanyRepository(Protocol):
    async def get_many(self, ids: Sequence[int]) -> list[Company | None]: ...

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]: ...


class JobRepository(Protocol):
    async def get_many(self, ids: Sequence[int]) -> list[Job | None]: ...

    async def open_page(self, limit: int, after: JobCursor | None) -> list[Job]:
        """Open jobs, newest first (posted_at DESC, id DESC), strictly after `after`."""
        ...


class CandidateRepository(Protocol):
    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]: ...


Probe = Callable[[], Awaitable[None]]
"""A cheap round trip to a store; raises when the store is unreachable."""


@dataclass(frozen=True)
class Datasources:
    """Every port the request layer uses, built once by the lifespan."""

    companies: CompanyRepository
    jobs: JobRepository
    candidates: CandidateRepository
    probes: Mapping[str, Probe]
