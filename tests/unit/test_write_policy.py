"""The write permission matrix (domain.write_policy), role by role."""

from __future__ import annotations

import pytest

from domain import write_policy as wp
from domain.enums import ApplicationStatus
from domain.viewer import PUBLIC, Role, Viewer
from tests import factories as f

ME, OTHER = f.cid(1), f.cid(2)
ADMIN = f.ADMIN
RECRUITER = Viewer(Role.RECRUITER, user_id="r1", company_id=1)
OTHER_RECRUITER = Viewer(Role.RECRUITER, user_id="r2", company_id=2)
HOMELESS_RECRUITER = Viewer(Role.RECRUITER, user_id="r3")  # no company
CANDIDATE = Viewer(Role.CANDIDATE, user_id="u1", candidate_id=ME)
PROFILELESS_CANDIDATE = Viewer(Role.CANDIDATE, user_id="u2")  # no profile
ANALYST = Viewer(Role.ANALYST, user_id="a1")
EVERYONE = {
    "admin": ADMIN,
    "recruiter": RECRUITER,
    "other_recruiter": OTHER_RECRUITER,
    "homeless_recruiter": HOMELESS_RECRUITER,
    "candidate": CANDIDATE,
    "profileless_candidate": PROFILELESS_CANDIDATE,
    "analyst": ANALYST,
    "public": PUBLIC,
}


def allowed(rule: object) -> set[str]:
    assert callable(rule)
    return {name for name, viewer in EVERYONE.items() if rule(viewer)}


def test_only_an_admin_creates_companies_and_candidates() -> None:
    assert allowed(wp.can_create_company) == {"admin"}
    assert allowed(wp.can_create_candidate) == {"admin"}


def test_a_company_is_updated_by_an_admin_or_its_own_recruiter() -> None:
    assert allowed(lambda v: wp.can_update_company(v, 1)) == {"admin", "recruiter"}
    assert allowed(lambda v: wp.can_update_company(v, 2)) == {"admin", "other_recruiter"}
    assert allowed(lambda v: wp.can_update_company(v, 3)) == {"admin"}


def test_jobs_are_managed_by_an_admin_or_a_recruiter_of_their_company() -> None:
    assert allowed(lambda v: wp.can_manage_jobs(v, 1)) == {"admin", "recruiter"}
    assert allowed(lambda v: wp.can_manage_jobs(v, 2)) == {"admin", "other_recruiter"}


def test_a_profile_is_updated_by_an_admin_or_its_candidate() -> None:
    assert allowed(lambda v: wp.can_update_profile(v, ME)) == {"admin", "candidate"}
    assert allowed(lambda v: wp.can_update_profile(v, OTHER)) == {"admin"}


def test_a_candidate_applies_only_for_themselves() -> None:
    assert allowed(lambda v: wp.can_apply(v, ME)) == {"admin", "candidate"}
    assert allowed(lambda v: wp.can_apply(v, OTHER)) == {"admin"}


@pytest.mark.parametrize("to", list(ApplicationStatus))
def test_advancing_an_application(to: ApplicationStatus) -> None:
    mine = f.application(1, job_id=10, candidate_id=ME)
    theirs = f.application(2, job_id=10, candidate_id=OTHER)
    # The job belongs to company 1: its recruiters move any application; the candidate
    # who applied may only withdraw their own.
    expected_mine = {"admin", "recruiter"} | (
        {"candidate"} if to is ApplicationStatus.WITHDRAWN else set()
    )
    assert allowed(lambda v: wp.can_advance(v, mine, 1, to)) == expected_mine
    assert allowed(lambda v: wp.can_advance(v, theirs, 1, to)) == {"admin", "recruiter"}
    assert allowed(lambda v: wp.can_advance(v, theirs, 2, to)) == {"admin", "other_recruiter"}


def test_a_job_the_viewer_cannot_see_leaves_only_withdrawal_and_admins() -> None:
    mine = f.application(1, job_id=10, candidate_id=ME)
    hired = ApplicationStatus.HIRED
    withdrawn = ApplicationStatus.WITHDRAWN
    assert allowed(lambda v: wp.can_advance(v, mine, None, hired)) == {"admin"}
    assert allowed(lambda v: wp.can_advance(v, mine, None, withdrawn)) == {"admin", "candidate"}
