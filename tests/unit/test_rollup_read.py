"""Which jobStats requests the rollup answers (`domain.rollup`), and the sets it holds."""

from __future__ import annotations

import pytest

from domain.analytics import JobGroup as G
from domain.analytics import JobStatsQuery
from domain.enums import JobStatus, Seniority
from domain.queries import JobFilter
from domain.rollup import ROLLUP_SETS, RollupRead, rollup_mask, rollup_read


def test_the_sets_are_every_single_dimension_and_the_pairs_without_company() -> None:
    assert len(ROLLUP_SETS) == len(set(ROLLUP_SETS)) == 1 + 10 + 35
    assert frozenset() in ROLLUP_SETS
    assert all(frozenset({g}) in ROLLUP_SETS for g in G)
    pairs = [s for s in ROLLUP_SETS if len(s) == 2]
    assert not [s for s in pairs if G.COMPANY in s]
    assert frozenset({G.POSTED_WEEK, G.POSTED_MONTH}) not in ROLLUP_SETS
    assert len({rollup_mask(s) for s in ROLLUP_SETS}) == len(ROLLUP_SETS)


def test_masks_are_one_bit_per_dimension_in_declaration_order() -> None:
    assert rollup_mask(()) == 0
    assert rollup_mask((G.COMPANY,)) == 1
    assert rollup_mask((G.SKILL, G.COUNTRY)) == rollup_mask((G.COUNTRY, G.SKILL)) == 4 + 128


@pytest.mark.parametrize(
    ("f", "groups", "want"),
    [
        (JobFilter(), (G.SKILL, G.SENIORITY), RollupRead(frozenset({G.SKILL, G.SENIORITY}))),
        (JobFilter(), (), RollupRead(frozenset())),
        (JobFilter(countries=("IN",)), (G.CITY,),
         RollupRead(frozenset({G.COUNTRY, G.CITY}), ((G.COUNTRY, "IN"),))),
        (JobFilter(countries=("IN",)), (G.COUNTRY,),
         RollupRead(frozenset({G.COUNTRY}), ((G.COUNTRY, "IN"),))),
        (JobFilter(company_ids=(7,)), (), RollupRead(frozenset({G.COMPANY}), ((G.COMPANY, 7),))),
        (JobFilter(statuses=(JobStatus.OPEN,)), (G.CITY,), RollupRead(frozenset({G.CITY}))),
    ],
)  # fmt: skip
def test_covered_requests(f: JobFilter, groups: tuple[G, ...], want: RollupRead) -> None:
    assert rollup_read(JobStatsQuery(f, groups)) == want


@pytest.mark.parametrize(
    ("f", "groups"),
    [
        (JobFilter(countries=("IN", "DE")), (G.CITY,)),  # two values: percentiles do not merge
        (JobFilter(cities=("pune",)), ()),  # lower(city) is not the key
        (JobFilter(search="rust"), (G.COUNTRY,)),
        (JobFilter(skills_any=("go",)), (G.COUNTRY,)),
        (JobFilter(statuses=(JobStatus.CLOSED,)), (G.COUNTRY,)),
        (JobFilter(scope_company_id=3), (G.COUNTRY,)),
        (JobFilter(), (G.COMPANY, G.SKILL)),
        (JobFilter(company_ids=(7,)), (G.COUNTRY,)),  # COMPANY x COUNTRY is not held
        (JobFilter(), (G.CITY, G.SKILL, G.SENIORITY)),
        (JobFilter(seniorities=(Seniority.MID,)), (G.CITY, G.SKILL)),
    ],
)
def test_requests_it_does_not_cover(f: JobFilter, groups: tuple[G, ...]) -> None:
    assert rollup_read(JobStatsQuery(f, groups)) is None
