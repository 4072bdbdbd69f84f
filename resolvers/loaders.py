"""Per-request DataLoaders: the one place that batches and deduplicates store reads.

Built fresh for every HTTP request or WebSocket connection, never at module level, so
nothing one viewer loaded can be served to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from strawberry.dataloader import DataLoader

from datasources.ports import Datasources
from domain.records import Candidate, Company, Job


@dataclass(frozen=True, slots=True)
class Loaders:
    company: DataLoader[int, Company | None]
    company_by_slug: DataLoader[str, Company | None]
    job: DataLoader[int, Job | None]
    candidate: DataLoader[str, Candidate | None]

    @classmethod
    def create(cls, ds: Datasources) -> Self:
        return cls(
            company=DataLoader(load_fn=ds.companies.get_many),
            company_by_slug=DataLoader(load_fn=ds.companies.get_many_by_slug),
            job=DataLoader(load_fn=ds.jobs.get_many),
            candidate=DataLoader(load_fn=ds.candidates.get_many),
        )
