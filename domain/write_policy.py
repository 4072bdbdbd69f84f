"""Authorization rules for writes: who may change what. Pure functions, no I/O.

The use cases (resolvers.mutations) load what a rule needs first (the job, to learn its
company; the application, to learn its job and candidate) through the viewer's loaders,
so a row the viewer may not see is NOT_FOUND before any rule runs, as for reads.
Decisions:

- ADMIN may do anything.
- Companies: only an ADMIN creates one; an ADMIN or a RECRUITER of that company
  updates it.
- Jobs: an ADMIN, or a RECRUITER of the job's company, posts, updates, publishes and
  closes it.
- Candidates: only an ADMIN creates a profile (sign-up that links a new profile to a
  user is the identity provider's business, not an API call); an ADMIN or the
  CANDIDATE themselves updates it.
- Applications: an ADMIN, or the CANDIDATE themselves, applies; an ADMIN or a
  RECRUITER of the job's company moves an application along the pipeline, and the
  CANDIDATE who applied may only withdraw it.

A viewer missing the id its role needs (a RECRUITER without a company, a CANDIDATE
without a profile) may do nothing beyond what PUBLIC may, which is no write at all.
"""

from __future__ import annotations

from domain.enums import ApplicationStatus
from domain.records import Application
from domain.viewer import Role, Viewer


def _recruits_for(viewer: Viewer, company_id: int) -> bool:
    return (
        viewer.role is Role.RECRUITER
        and viewer.company_id is not None
        and viewer.company_id == company_id
    )


def _is_candidate(viewer: Viewer, candidate_id: str) -> bool:
    return (
        viewer.role is Role.CANDIDATE
        and viewer.candidate_id is not None
        and viewer.candidate_id == candidate_id
    )


def can_create_company(viewer: Viewer) -> bool:
    return viewer.is_admin


def can_update_company(viewer: Viewer, company_id: int) -> bool:
    return viewer.is_admin or _recruits_for(viewer, company_id)


def can_manage_jobs(viewer: Viewer, company_id: int) -> bool:
    """Post, update, publish and close the jobs of `company_id`."""
    return viewer.is_admin or _recruits_for(viewer, company_id)


def can_create_candidate(viewer: Viewer) -> bool:
    return viewer.is_admin


def can_update_profile(viewer: Viewer, candidate_id: str) -> bool:
    return viewer.is_admin or _is_candidate(viewer, candidate_id)


def can_apply(viewer: Viewer, candidate_id: str) -> bool:
    return viewer.is_admin or _is_candidate(viewer, candidate_id)


def can_advance(
    viewer: Viewer, application: Application, job_company_id: int | None, to: ApplicationStatus
) -> bool:
    """Move `application` (to a job of `job_company_id`; None: a job the viewer cannot
    see) to `to`. Whether the move is legal from its current status is the pipeline's
    rule (domain.applications), checked by the writer under a lock."""
    if viewer.is_admin:
        return True
    if job_company_id is not None and _recruits_for(viewer, job_company_id):
        return True
    return _is_candidate(viewer, application.candidate_id) and to is ApplicationStatus.WITHDRAWN
