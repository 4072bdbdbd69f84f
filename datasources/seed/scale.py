"""Seed sizes and the fixed time anchor every generated date is relative to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# Never wall-clock time: the same seed must give byte-identical data on any day.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scale:
    """How many rows (documents) of each entity to generate."""

    companies: int
    jobs: int
    candidates: int
    applications: int


SCALES: dict[str, Scale] = {
    "small": Scale(companies=50, jobs=500, candidates=1_000, applications=3_000),
    "medium": Scale(companies=1_000, jobs=20_000, candidates=50_000, applications=200_000),
    "large": Scale(companies=5_000, jobs=200_000, candidates=500_000, applications=2_000_000),
}
