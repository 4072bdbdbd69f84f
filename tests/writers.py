"""In-memory fakes of the write ports (unit tests only), over the read fakes' rows.

Each fake keeps the contract its port documents (datasources.ports): the same expected
failures (NotFound, Conflict, AlreadyApplied, InvalidTransition) in the same cases, and
the record as committed. Writes land in the rows the read fakes serve, so a read after
a write sees it, as with the real stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from datasources.ports import Datasources
from domain.applications import allowed_moves
from domain.commands import (
    Actor,
    Changes,
    NewCandidate,
    NewCompany,
    NewJob,
    ProfilePatch,
    StatusChange,
)
from domain.enums import ApplicationStatus, JobStatus
from domain.errors import AlreadyApplied, Conflict, InvalidTransition, NotFound
from domain.records import Application, Candidate, Company, Job
from tests import factories as f


@dataclass
class Clock:
    ticks: int = 0

    def now(self) -> Any:
        self.ticks += 1
        return f.T0 + timedelta(days=1, seconds=self.ticks)


@dataclass
class Writes:
    """What the fakes were asked to do, and every change they told the invalidator."""

    calls: list[tuple[str, Any, str | None]] = field(default_factory=list)
    invalidated: list[tuple[str, list[Any]]] = field(default_factory=list)

    def record(self, name: str, arg: Any, actor: Actor) -> None:
        self.calls.append((name, arg, actor.subject))


@dataclass
class FakeCompanyWriter:
    rows: dict[int, Company]
    writes: Writes
    clock: Clock

    async def create(self, new: NewCompany, actor: Actor) -> Company:
        self.writes.record("company.create", new.slug, actor)
        if any(c.slug == new.slug for c in self.rows.values()):
            raise Conflict(f"slug {new.slug!r} is taken")
        now = self.clock.now()
        company = f.company(
            max(self.rows, default=0) + 1, **_fields(new), created_at=now, updated_at=now
        )
        self.rows[company.id] = company
        return company

    async def update(self, company_id: int, changes: Changes, actor: Actor) -> Company:
        self.writes.record("company.update", company_id, actor)
        if company_id not in self.rows:
            raise NotFound(f"no company {company_id}")
        company = replace(self.rows[company_id], **changes.values, updated_at=self.clock.now())
        self.rows[company_id] = company
        return company


@dataclass
class FakeJobWriter:
    rows: dict[int, Job]
    companies: dict[int, Company]
    writes: Writes
    clock: Clock

    async def post(self, new: NewJob, actor: Actor) -> Job:
        self.writes.record("job.post", new.company_id, actor)
        if new.company_id not in self.companies:
            raise NotFound(f"no company {new.company_id}")
        now = self.clock.now()
        values = {k: v for k, v in _fields(new).items() if k != "publish"}
        status = JobStatus.OPEN if new.publish else JobStatus.DRAFT
        job = f.job(
            max(self.rows, default=0) + 1, **values, status=status,
            posted_at=now if new.publish else None, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[job.id] = job
        return job

    def _job(self, job_id: int) -> Job:
        if job_id not in self.rows:
            raise NotFound(f"no job {job_id}")
        return self.rows[job_id]

    def _save(self, job: Job, **values: Any) -> Job:
        self.rows[job.id] = saved = replace(job, **values, updated_at=self.clock.now())
        return saved

    async def update(self, job_id: int, changes: Changes, actor: Actor) -> Job:
        self.writes.record("job.update", job_id, actor)
        job = self._job(job_id)
        if job.status is JobStatus.CLOSED:
            raise Conflict(f"job {job_id} is closed")
        return self._save(job, **changes.values)

    async def publish(self, job_id: int, actor: Actor) -> Job:
        self.writes.record("job.publish", job_id, actor)
        job = self._job(job_id)
        if job.status is not JobStatus.DRAFT:
            raise Conflict(f"job {job_id} is not a draft")
        return self._save(job, status=JobStatus.OPEN, posted_at=self.clock.now())

    async def close(self, job_id: int, actor: Actor) -> Job:
        self.writes.record("job.close", job_id, actor)
        job = self._job(job_id)
        if job.status is JobStatus.CLOSED:
            raise Conflict(f"job {job_id} is already closed")
        return self._save(job, status=JobStatus.CLOSED)


@dataclass
class FakeApplicationWriter:
    rows: dict[int, Application]
    jobs: dict[int, Job]
    writes: Writes
    clock: Clock
    changes: dict[int, list[StatusChange]] = field(default_factory=dict)
    history_batches: list[tuple[int, ...]] = field(default_factory=list)

    async def apply(self, job_id: int, candidate_id: str, source: str, actor: Actor) -> Application:
        self.writes.record("application.apply", (job_id, candidate_id), actor)
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.status is not JobStatus.OPEN:
            raise Conflict(f"job {job_id} is not open")
        for a in self.rows.values():
            if (a.job_id, a.candidate_id) == (job_id, candidate_id):
                raise AlreadyApplied("already applied to this job", a.id)
        now = self.clock.now()
        app = f.application(max(self.rows, default=0) + 1, job_id, candidate_id, source=source,
                            applied_at=now, updated_at=now)  # fmt: skip
        self.rows[app.id] = app
        self.changes[app.id] = [StatusChange(None, app.status, now, actor.subject, None)]
        return app

    async def advance(
        self, application_id: int, to: ApplicationStatus, note: str | None, actor: Actor
    ) -> Application:
        self.writes.record("application.advance", (application_id, to), actor)
        app = self.rows.get(application_id)
        if app is None:
            raise NotFound(f"no application {application_id}")
        allowed = allowed_moves(app.status)
        if to not in allowed:
            raise InvalidTransition(
                f"cannot move from {app.status.name} to {to.name}", app.status, allowed
            )
        now = self.clock.now()
        moved = self.rows[application_id] = replace(app, status=to, updated_at=now)
        change = StatusChange(app.status, to, now, actor.subject, note)
        self.changes.setdefault(application_id, []).append(change)
        return moved

    async def history(self, application_ids: Sequence[int]) -> dict[int, list[StatusChange]]:
        self.history_batches.append(tuple(application_ids))
        return {i: list(self.changes.get(i, [])) for i in application_ids}


@dataclass
class FakeCandidateWriter:
    rows: dict[str, Candidate]
    writes: Writes
    clock: Clock

    async def create(self, new: NewCandidate, actor: Actor) -> Candidate:
        self.writes.record("candidate.create", new.email, actor)
        if any(c.email == new.email for c in self.rows.values()):
            raise Conflict(f"email {new.email!r} is taken")
        now = self.clock.now()
        values = {**_fields(new), "attributes": dict(new.attributes)}
        candidate = f.candidate(
            f.cid(1000 + len(self.rows)), **values, version=1, created_at=now, updated_at=now
        )
        self.rows[candidate.id] = candidate
        return candidate

    async def update_profile(
        self, candidate_id: str, patch: ProfilePatch, expected_version: int | None, actor: Actor
    ) -> Candidate:
        self.writes.record("candidate.update_profile", candidate_id, actor)
        c = self.rows.get(candidate_id)
        if c is None:
            raise NotFound(f"no candidate {candidate_id}")
        if expected_version is not None and expected_version != c.version:
            raise Conflict(f"version {expected_version} is stale: the profile is at {c.version}")
        skills = {s.name: s for s in c.skills if s.name not in patch.skills_remove}
        skills.update({s.name: s for s in patch.skills_upsert})
        attributes = {**c.attributes, **patch.attributes_set}
        for key in patch.attributes_unset:
            attributes.pop(key, None)
        parts = {
            name: value
            for name in ("experience", "education", "links", "preferences")
            if (value := getattr(patch, name)) is not None
        }
        updated = replace(
            c, **patch.set_fields, **parts, skills=tuple(skills.values()),
            attributes=attributes, version=c.version + 1, updated_at=self.clock.now(),
        )  # fmt: skip
        self.rows[candidate_id] = updated
        return updated


@dataclass
class RecordingInvalidator:
    writes: Writes
    fail: bool = False

    async def entities_changed(self, type_name: str, ids: Iterable[Any]) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.writes.invalidated.append((type_name, list(ids)))


def _fields(command: Any) -> dict[str, Any]:
    return {name: getattr(command, name) for name in command.__slots__}


@dataclass
class Writers:
    companies: FakeCompanyWriter
    jobs: FakeJobWriter
    applications: FakeApplicationWriter
    candidates: FakeCandidateWriter
    invalidator: RecordingInvalidator
    writes: Writes


def writable(ds: Datasources) -> tuple[Datasources, Writers]:
    """`ds` (from factories.fake_datasources) with fake writers over its rows."""
    writes, clock = Writes(), Clock()
    companies: Any = ds.companies
    jobs: Any = ds.jobs
    apps: Any = ds.applications
    candidates: Any = ds.candidates
    w = Writers(
        FakeCompanyWriter(companies.rows, writes, clock),
        FakeJobWriter(jobs.rows, companies.rows, writes, clock),
        FakeApplicationWriter(apps.rows, jobs.rows, writes, clock),
        FakeCandidateWriter(candidates.rows, writes, clock),
        RecordingInvalidator(writes),
        writes,
    )
    ds = replace(
        ds, company_writer=w.companies, job_writer=w.jobs, application_writer=w.applications,
        candidate_writer=w.candidates, invalidator=w.invalidator,
    )  # fmt: skip
    return ds, w


# -- running mutations over the fakes --------------------------------------------------------

ME, OTHER = f.cid(1), f.cid(2)


def board() -> tuple[Datasources, Writers, f.CallLog]:
    """Companies 1 and 2; jobs 1 (company 1, open), 2 (1, draft), 3 (2, open), 4 (2, draft),
    5 (1, closed); candidates ME and OTHER; applications 1 (OTHER to job 1) and 2 (ME to
    job 3), both APPLIED."""
    companies = [f.company(1), f.company(2)]
    jobs = [
        f.job(1, company_id=1),
        f.job(2, company_id=1, status=JobStatus.DRAFT, posted_at=None),
        f.job(3, company_id=2),
        f.job(4, company_id=2, status=JobStatus.DRAFT, posted_at=None),
        f.job(5, company_id=1, status=JobStatus.CLOSED),
    ]
    candidates = [f.candidate(ME), f.candidate(OTHER, name="Ravi Iyer", email="ravi@x.io")]
    apps = [f.application(1, 1, OTHER), f.application(2, 3, ME)]
    ds, log = f.fake_datasources(companies, jobs, candidates, apps)
    ds, writers = writable(ds)
    return ds, writers, log
