"""Authorization rules: what a viewer may read. Pure functions of (Viewer, records), no I/O.

The loaders and root reads turn these rules into store queries (row level, in the
query itself, so counts and cursors never reveal hidden rows) and into per-field
checks (personal fields). Decisions:

- Hidden rows are indistinguishable from missing ones: an entity lookup (`job(id)`,
  `candidate(id)`, `node(id)`, `Application.job`) gives `null` without an error, and
  lists and counts simply leave them out. A root `candidates` list for a viewer who
  may see no profiles is an empty connection, not an error.
- Personal fields of a visible profile (`PERSONAL_FIELDS`) give `null` plus a
  FORBIDDEN error to a viewer not allowed to read them; the rest of the response stays.

Per role:
- PUBLIC: open jobs and all companies; no applications, no profiles.
- CANDIDATE: open jobs; their own profile (with personal fields) and applications.
- RECRUITER: their company's jobs in any status, other companies' open jobs; the
  applications to their company's jobs; the profiles of those applicants (with
  personal fields, as the candidate applied to their company); nothing of other
  companies' applications.
- ANALYST: open jobs; profiles without personal fields (aggregates come later); no
  application rows, since linking a person to a job is personal.
- ADMIN: everything.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from enum import Enum

from domain.enums import JobStatus
from domain.queries import ApplicationFilter, CandidateFilter, JobFilter
from domain.records import Job
from domain.viewer import Role, Viewer

PERSONAL_FIELDS = ("email", "phone", "attributes", "preferences.salaryExpectation")
"""Candidate fields readable only by the candidate, recruiters of a company the
candidate applied to, and admins."""

_OPEN_ONLY = (Role.PUBLIC, Role.CANDIDATE, Role.ANALYST)


class CandidateAccess(Enum):
    """Which candidate profiles a viewer may read."""

    ALL = "all"
    SELF = "self"  # CANDIDATE: their own profile
    APPLICANTS = "applicants"  # RECRUITER: profiles of applicants to their company
    NONE = "none"


def scope_of(viewer: Viewer) -> Viewer:
    """`viewer` reduced to what this module reads (role, company, candidate): viewers
    with the same scope are allowed exactly the same rows and fields, so one load for
    the scope may serve all of them (subscriptions share one per event)."""
    return Viewer(viewer.role, company_id=viewer.company_id, candidate_id=viewer.candidate_id)


def _recruiter_company(viewer: Viewer) -> int | None:
    """A recruiter's company; a recruiter without one is treated as seeing nothing extra."""
    return viewer.company_id if viewer.role is Role.RECRUITER else None


# -- jobs ---------------------------------------------------------------------------------


def job_filter(viewer: Viewer, f: JobFilter) -> JobFilter | None:
    """`f` narrowed to what `viewer` may see; None when nothing can match (no query)."""
    if viewer.role is Role.ADMIN:
        return f
    if JobStatus.OPEN in f.statuses and len(f.statuses) == 1:
        return f  # open jobs are public: the same filter (and SQL) for every viewer
    company = _recruiter_company(viewer)
    if company is not None:
        return replace(f, scope_company_id=company)
    if JobStatus.OPEN not in f.statuses:
        return None
    return replace(f, statuses=(JobStatus.OPEN,))


def can_see_job(viewer: Viewer, job: Job) -> bool:
    if viewer.role is Role.ADMIN or job.status is JobStatus.OPEN:
        return True
    company = _recruiter_company(viewer)
    return company is not None and job.company_id == company


# -- applications -------------------------------------------------------------------------


def application_filter(viewer: Viewer, f: ApplicationFilter) -> ApplicationFilter | None:
    """`f` narrowed to the viewer's applications; None when they may see none."""
    if viewer.role is Role.ADMIN:
        return f
    if viewer.role is Role.CANDIDATE and viewer.candidate_id is not None:
        return replace(f, candidate_id=viewer.candidate_id)
    company = _recruiter_company(viewer)
    if company is not None:
        return replace(f, company_id=company)
    return None  # PUBLIC, ANALYST, or a viewer missing the id its role needs


# -- candidates ---------------------------------------------------------------------------


def candidate_access(viewer: Viewer) -> CandidateAccess:
    if viewer.role in (Role.ADMIN, Role.ANALYST):
        return CandidateAccess.ALL
    if viewer.role is Role.CANDIDATE and viewer.candidate_id is not None:
        return CandidateAccess.SELF
    if _recruiter_company(viewer) is not None:
        return CandidateAccess.APPLICANTS
    return CandidateAccess.NONE


def candidate_filter(
    viewer: Viewer, f: CandidateFilter, applicants: Set[str] | None = None
) -> CandidateFilter | None:
    """`f` narrowed to visible profiles; RECRUITER needs `applicants` (their company's).

    None when nothing can match (no query).
    """
    access = candidate_access(viewer)
    if access is CandidateAccess.ALL:
        return f
    if access is CandidateAccess.SELF:
        assert viewer.candidate_id is not None
        return replace(f, ids=(viewer.candidate_id,))
    if access is CandidateAccess.APPLICANTS and applicants:
        return replace(f, ids=tuple(sorted(applicants)))
    return None


def can_see_candidate(viewer: Viewer, candidate_id: str, applied_to: Set[int]) -> bool:
    """`applied_to`: the companies the candidate applied to (needed for RECRUITER only)."""
    access = candidate_access(viewer)
    if access is CandidateAccess.ALL:
        return True
    if access is CandidateAccess.SELF:
        return candidate_id == viewer.candidate_id
    if access is CandidateAccess.APPLICANTS:
        return viewer.company_id in applied_to
    return False


def personal_needs_applications(viewer: Viewer) -> bool:
    """Whether `can_see_personal` needs the candidate's companies (one batched read)."""
    return _recruiter_company(viewer) is not None


def can_see_personal(viewer: Viewer, candidate_id: str, applied_to: Set[int]) -> bool:
    """Personal fields: the candidate, recruiters of a company they applied to, admins."""
    if viewer.role is Role.ADMIN:
        return True
    if viewer.role is Role.CANDIDATE:
        return viewer.candidate_id is not None and candidate_id == viewer.candidate_id
    company = _recruiter_company(viewer)
    return company is not None and company in applied_to
