"""Pure analytics rules: percentiles, buckets, bounds, access and the skills-gap join."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.analytics import (
    MAX_BUCKETS,
    FunnelQuery,
    Interval,
    JobGroup,
    JobStatsQuery,
    SkillDemand,
    TimeseriesQuery,
    analytics_company,
    check_first,
    percentile,
    scoped_funnel,
    scoped_jobs,
    skills_gap,
    years_label,
)
from domain.enums import JobStatus
from domain.errors import Forbidden, InvalidInput
from domain.queries import JobFilter
from domain.viewer import Role, Viewer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10, 20, 30, 40, 50], 0.9) == pytest.approx(46)
    assert percentile([3, 1, 2], 0.5) == 2


@pytest.mark.parametrize(
    ("years", "label"), [(0, "0-1"), (1.9, "0-1"), (2, "2-4"), (9, "5-9"), (14, "10-14"),
                         (15, "15+"), (40, "15+")],
)  # fmt: skip
def test_years_label(years: float, label: str) -> None:
    assert years_label(years) == label


def test_bounds() -> None:
    assert check_first(None) == 20
    with pytest.raises(InvalidInput):
        check_first(MAX_BUCKETS + 1)
    with pytest.raises(InvalidInput):
        check_first(-1)
    with pytest.raises(InvalidInput, match="at most"):
        TimeseriesQuery(JobFilter(), Interval.DAY, T0, T0 + timedelta(days=MAX_BUCKETS + 1))
    TimeseriesQuery(JobFilter(), Interval.MONTH, T0, T0 + timedelta(days=365 * 50))
    with pytest.raises(InvalidInput, match="time zone"):
        TimeseriesQuery(JobFilter(), Interval.DAY, T0.replace(tzinfo=None), T0)
    with pytest.raises(InvalidInput, match="earlier"):
        TimeseriesQuery(JobFilter(), Interval.DAY, T0, T0)
    with pytest.raises(InvalidInput, match="twice"):
        JobStatsQuery(JobFilter(), (JobGroup.SKILL, JobGroup.SKILL))
    with pytest.raises(InvalidInput, match="not both"):
        JobStatsQuery(JobFilter(), (JobGroup.POSTED_WEEK, JobGroup.POSTED_MONTH))
    with pytest.raises(InvalidInput, match="exactly one"):
        FunnelQuery()


@pytest.mark.parametrize(
    "viewer",
    [Viewer(), Viewer(Role.CANDIDATE, candidate_id="c"), Viewer(Role.RECRUITER)],
)
def test_who_may_not_read_analytics(viewer: Viewer) -> None:
    with pytest.raises(Forbidden):
        analytics_company(viewer)


def test_recruiters_are_scoped_to_their_company() -> None:
    recruiter = Viewer(Role.RECRUITER, company_id=4)
    assert analytics_company(Viewer(Role.ANALYST)) is None
    assert analytics_company(recruiter) == 4
    f = JobFilter(statuses=(JobStatus.DRAFT,))
    assert scoped_jobs(recruiter, f).company_ids == (4,)
    assert scoped_jobs(recruiter, JobFilter(company_ids=(4, 5))).company_ids == (4,)
    assert scoped_jobs(recruiter, JobFilter(company_ids=(5,))).company_ids == ()
    assert scoped_jobs(Viewer(Role.ADMIN), f) is f
    assert scoped_funnel(recruiter, FunnelQuery(job_id=9)).scope_company_id == 4
    with pytest.raises(Forbidden):
        scoped_funnel(recruiter, FunnelQuery(company_id=5))


def test_skills_gap_joins_demand_and_supply() -> None:
    demand = [
        SkillDemand("go", 10, {"USD": 100.0}),
        SkillDemand("rust", 4, {}),
        SkillDemand("sql", 10, {}),
        SkillDemand("cobol", 2, {}),
    ]
    got = skills_gap(demand, {"go": 5, "sql": 20, "cobol": 0, "python": 99}, 10)
    assert [(g.skill, g.demand, g.supply, g.ratio) for g in got] == [
        ("rust", 4, 0, None),
        ("go", 10, 5, 2.0),
        ("cobol", 2, 0, None),
        ("sql", 10, 20, 0.5),
    ]
    assert got[1].median_salary == {"USD": 100.0}
    assert len(skills_gap(demand, {}, 2)) == 2
