"""`domain.job_match.job_matches`: the `jobs` filter applied to one job in memory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enums import EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.job_match import job_matches
from domain.queries import JobFilter, SalaryFilter
from tests import factories as f
from tests.factories import T0

JOB = f.job(7, company_id=3)  # open, Mumbai IN, hybrid, full time, mid, 15-28 lakh INR


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (JobFilter(), True),
        (JobFilter(company_ids=(3,)), True),
        (JobFilter(company_ids=(4,)), False),
        (JobFilter(cities=("  MUMBAI ",)), True),
        (JobFilter(cities=("pune",)), False),
        (JobFilter(countries=("in",)), True),
        (JobFilter(countries=("US",)), False),
        (JobFilter(remote=(RemotePolicy.HYBRID,)), True),
        (JobFilter(remote=(RemotePolicy.REMOTE,)), False),
        (JobFilter(employment_types=(EmploymentType.FULL_TIME,)), True),
        (JobFilter(employment_types=(EmploymentType.CONTRACT,)), False),
        (JobFilter(seniorities=(Seniority.MID, Seniority.SENIOR)), True),
        (JobFilter(seniorities=(Seniority.SENIOR,)), False),
        (JobFilter(salary=SalaryFilter("inr", min=2_000_000)), True),
        (JobFilter(salary=SalaryFilter("INR", min=3_000_000)), False),
        (JobFilter(salary=SalaryFilter("INR", max=1_000_000)), False),
        (JobFilter(salary=SalaryFilter("USD")), False),
        (JobFilter(skills_any=("Python", "go")), True),
        (JobFilter(skills_any=("go",)), False),
        (JobFilter(skills_all=("python", "FastAPI")), True),
        (JobFilter(skills_all=("python", "go")), False),
        (JobFilter(posted_after=T0 - timedelta(days=1)), True),
        (JobFilter(posted_after=T0), False),
        (JobFilter(posted_before=T0), True),
        (JobFilter(posted_before=T0 - timedelta(days=1)), False),
        (JobFilter(search="backend apis"), True),
        (JobFilter(search="backend -apis"), False),
        (JobFilter(search="frontend"), False),
        (JobFilter(statuses=(JobStatus.CLOSED,)), False),
    ],
)
def test_each_condition(flt: JobFilter, expected: bool) -> None:
    assert job_matches(flt, JOB) is expected


def test_missing_values_never_match_a_condition_on_them() -> None:
    bare = f.job(8, city=None, salary_min=None, salary_max=None, salary_currency=None)
    assert job_matches(JobFilter(), bare)
    assert not job_matches(JobFilter(cities=("mumbai",)), bare)
    assert not job_matches(JobFilter(salary=SalaryFilter("INR")), bare)
    unposted = f.job(9, posted_at=None)
    assert not job_matches(JobFilter(posted_after=T0 - timedelta(days=9)), unposted)


def test_scope_lets_a_recruiter_match_own_drafts_only() -> None:
    both = (JobStatus.OPEN, JobStatus.DRAFT)
    own_draft = f.job(1, company_id=3, status=JobStatus.DRAFT)
    other_draft = f.job(2, company_id=4, status=JobStatus.DRAFT)
    scoped = JobFilter(statuses=both, scope_company_id=3)
    assert job_matches(scoped, own_draft)
    assert not job_matches(scoped, other_draft)
    assert job_matches(scoped, f.job(3, company_id=4))
    assert not job_matches(JobFilter(), own_draft)
