"""The authorization rules per role (pure), and per-viewer loaders over fakes."""

from __future__ import annotations

import asyncio

import pytest

from datasources.ports import Datasources
from domain import policy
from domain.enums import JobStatus
from domain.policy import CandidateAccess
from domain.queries import ApplicationFilter, CandidateFilter, JobFilter
from domain.viewer import PUBLIC, Role, Viewer
from resolvers.context import Context
from tests import factories as f

ME = f.cid(1)
CANDIDATE = Viewer(Role.CANDIDATE, user_id="u1", candidate_id=ME)
RECRUITER = Viewer(Role.RECRUITER, user_id="r1", company_id=1)
OTHER_RECRUITER = Viewer(Role.RECRUITER, user_id="r2", company_id=2)
ANALYST = Viewer(Role.ANALYST, user_id="a1")
ALL_STATUSES = JobFilter(statuses=tuple(JobStatus))


def test_open_jobs_keep_the_same_filter_for_everyone() -> None:
    board = JobFilter()
    for viewer in (PUBLIC, CANDIDATE, RECRUITER, ANALYST, f.ADMIN):
        assert policy.job_filter(viewer, board) is board


def test_job_statuses_per_role() -> None:
    assert policy.job_filter(PUBLIC, ALL_STATUSES) == JobFilter()
    assert policy.job_filter(ANALYST, ALL_STATUSES) == JobFilter()
    assert policy.job_filter(PUBLIC, JobFilter(statuses=(JobStatus.DRAFT,))) is None
    scoped = policy.job_filter(RECRUITER, ALL_STATUSES)
    assert scoped is not None
    assert scoped.scope_company_id == 1
    assert policy.job_filter(f.ADMIN, ALL_STATUSES) is ALL_STATUSES
    draft = f.job(1, company_id=1, status=JobStatus.DRAFT)
    assert policy.can_see_job(RECRUITER, draft)
    assert not policy.can_see_job(OTHER_RECRUITER, draft)
    assert not policy.can_see_job(PUBLIC, draft)
    assert policy.can_see_job(PUBLIC, f.job(2))


def test_application_scope_per_role() -> None:
    base = ApplicationFilter()
    assert policy.application_filter(PUBLIC, base) is None
    assert policy.application_filter(ANALYST, base) is None
    assert policy.application_filter(CANDIDATE, base) == ApplicationFilter(candidate_id=ME)
    assert policy.application_filter(RECRUITER, base) == ApplicationFilter(company_id=1)
    assert policy.application_filter(f.ADMIN, base) is base
    # A role without the id it needs sees nothing rather than everything.
    assert policy.application_filter(Viewer(Role.RECRUITER), base) is None
    assert policy.application_filter(Viewer(Role.CANDIDATE), base) is None


def test_candidate_and_personal_visibility() -> None:
    assert policy.candidate_access(PUBLIC) is CandidateAccess.NONE
    assert policy.candidate_filter(PUBLIC, CandidateFilter()) is None
    assert policy.candidate_filter(CANDIDATE, CandidateFilter()) == CandidateFilter(ids=(ME,))
    assert policy.candidate_filter(RECRUITER, CandidateFilter(), frozenset()) is None
    assert policy.candidate_filter(ANALYST, CandidateFilter()) == CandidateFilter()
    assert policy.can_see_candidate(RECRUITER, "x", {1, 3})
    assert not policy.can_see_candidate(RECRUITER, "x", {2})
    assert not policy.can_see_candidate(CANDIDATE, "x", set())
    assert policy.can_see_personal(CANDIDATE, ME, set())
    assert not policy.can_see_personal(CANDIDATE, "x", set())
    assert policy.can_see_personal(RECRUITER, "x", {1})
    assert not policy.can_see_personal(RECRUITER, "x", {2})
    assert not policy.can_see_personal(ANALYST, ME, {1})
    assert not policy.can_see_personal(PUBLIC, ME, {1})
    assert policy.can_see_personal(f.ADMIN, "x", set())


def _store() -> tuple[Datasources, f.CallLog]:
    companies = [f.company(1), f.company(2)]
    jobs = [f.job(1, company_id=1), f.job(2, company_id=2, status=JobStatus.DRAFT)]
    jobs.append(f.job(3, company_id=2))
    candidates = [f.candidate(f.cid(n)) for n in (1, 2, 3)]
    apps = [f.application(1, 1, f.cid(1)), f.application(2, 3, f.cid(2))]
    apps.append(f.application(3, 2, f.cid(3)))
    return f.fake_datasources(companies, jobs, candidates, apps)


@pytest.mark.parametrize(
    ("viewer", "jobs", "applications", "candidates"),
    [
        (PUBLIC, [1, 3], [], []),
        (RECRUITER, [1, 3], [1], [f.cid(1)]),
        (OTHER_RECRUITER, [1, 2, 3], [2, 3], [f.cid(2), f.cid(3)]),
        (CANDIDATE, [1, 3], [1], [f.cid(1)]),
        (ANALYST, [1, 3], [], [f.cid(1), f.cid(2), f.cid(3)]),
        (f.ADMIN, [1, 2, 3], [1, 2, 3], [f.cid(1), f.cid(2), f.cid(3)]),
    ],
)
async def test_loaders_return_only_what_the_viewer_may_see(
    viewer: Viewer, jobs: list[int], applications: list[int], candidates: list[str]
) -> None:
    ds, _ = _store()
    loaders = Context(ds, viewer=viewer).loaders
    got_jobs = await loaders.job.load_many([1, 2, 3])
    got_apps = await loaders.application.load_many([1, 2, 3])
    got_cands = await loaders.candidate.load_many([f.cid(n) for n in (1, 2, 3)])
    assert [j.id for j in got_jobs if j] == jobs
    assert [a.id for a in got_apps if a] == applications
    assert [c.id for c in got_cands if c] == candidates


async def test_a_viewer_who_sees_no_profiles_costs_no_store_read() -> None:
    ds, log = _store()
    loaders = Context(ds).loaders
    assert await loaders.candidate.load_many([f.cid(1)]) == [None]
    assert await loaders.matching_candidates.load_many([(1, 5)]) == [[]]
    assert await loaders.application.load_many([1]) == [None]
    assert log.calls == []


async def test_two_viewers_interleaved_never_share_a_batch_or_cache() -> None:
    ds, log = _store()
    one, two = Context(ds, viewer=RECRUITER), Context(ds, viewer=OTHER_RECRUITER)
    keys = [f.cid(n) for n in (1, 2, 3)]
    # The same keys, loaded in the same event-loop tick by both viewers, twice over.
    for _ in range(2):
        a, b, c, d = await asyncio.gather(
            one.loaders.candidate.load_many(keys),
            two.loaders.candidate.load_many(keys),
            one.loaders.application.load_many([1, 2, 3]),
            two.loaders.application.load_many([1, 2, 3]),
        )
        assert [x.id for x in a if x] == [f.cid(1)]
        assert [x.id for x in b if x] == [f.cid(2), f.cid(3)]
        assert [x.id for x in c if x] == [1]
        assert [x.id for x in d if x] == [2, 3]
    assert log.count("candidates.get_many") == 2  # one batch per viewer, then cached
