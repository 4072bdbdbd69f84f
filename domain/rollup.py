"""Which `jobStats` requests the board-wide rollup answers. No I/O.

The rollup (migration 0007, `datasources.postgres.rollup`) holds, for the open jobs of
the whole board, the figures of these grouping sets (the currency is part of every
set, as in every bucket):

- no dimension (one bucket per currency), and each dimension alone;
- every pair of dimensions but COMPANY (a company is one of thousands: COMPANY x SKILL
  or x POSTED_WEEK would hold about as many rows as there are jobs) and POSTED_WEEK x
  POSTED_MONTH (refused by `JobStatsQuery`).

A request is answered from it when its filter is the default one (open jobs) plus at
most one single-valued equality on a dimension (`countries: ["IN"]`), and its groups
plus that dimension form one of the sets: the filter then picks that set's rows whose
key equals the value. The figures are exactly the live statement's (the same rows,
the same `percentile_cont`); what differs is when they were computed, which the
reader bounds (`max_staleness`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from itertools import combinations

from domain.analytics import JobGroup, JobStatsQuery
from domain.queries import JobFilter

_PAIRED = tuple(g for g in JobGroup if g is not JobGroup.COMPANY)
_EXCLUSIVE = frozenset({JobGroup.POSTED_WEEK, JobGroup.POSTED_MONTH})

ROLLUP_SETS: tuple[frozenset[JobGroup], ...] = (
    frozenset(),
    *(frozenset({g}) for g in JobGroup),
    *(frozenset(p) for p in combinations(_PAIRED, 2) if frozenset(p) != _EXCLUSIVE),
)
_SETS = frozenset(ROLLUP_SETS)

# JobFilter fields that pin a dimension to one value: the field's single value is the
# group key's value (the same column, no normalisation in between). `cities` is not
# here: it compares lower(city), the key is the city as written.
PINNABLE: dict[str, JobGroup] = {
    "company_ids": JobGroup.COMPANY,
    "countries": JobGroup.COUNTRY,
    "remote": JobGroup.REMOTE,
    "employment_types": JobGroup.EMPLOYMENT_TYPE,
    "seniorities": JobGroup.SENIORITY,
}
assert {f.name for f in fields(JobFilter)} >= PINNABLE.keys()


def rollup_mask(groups: frozenset[JobGroup] | tuple[JobGroup, ...]) -> int:
    """The grouping set as stored in `job_stats_rollup.grouping`: bit i for the i-th
    JobGroup."""
    order = list(JobGroup)
    return sum(1 << order.index(g) for g in set(groups))


@dataclass(frozen=True, slots=True)
class RollupRead:
    """The rows that answer a request: those of grouping set `groups` whose keys equal
    `pinned` (dimension, value) pairs."""

    groups: frozenset[JobGroup]
    pinned: tuple[tuple[JobGroup, object], ...] = ()

    @property
    def mask(self) -> int:
        return rollup_mask(self.groups)


def rollup_read(q: JobStatsQuery) -> RollupRead | None:
    """How the rollup answers `q`, or None when only the live statement can."""
    f = q.filter
    pinned: list[tuple[JobGroup, object]] = []
    for name, group in PINNABLE.items():
        values = getattr(f, name)
        if values is None:
            continue
        if len(values) != 1:
            return None
        pinned.append((group, values[0]))
    unpinned = replace(
        f, company_ids=None, countries=None, remote=None, employment_types=None, seniorities=None
    )
    if unpinned != JobFilter():
        return None  # another filter, another status, or a viewer's scope
    groups = frozenset(q.group_by) | {g for g, _ in pinned}
    if groups not in _SETS:
        return None
    return RollupRead(groups, tuple(pinned))


WHOLE_BOARD_SKILLS = RollupRead(frozenset({JobGroup.SKILL}))
"""The rows `skillsGap`'s demand reads when its filter is the default one."""
