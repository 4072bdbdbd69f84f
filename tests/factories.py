"""Small builders for records, and in-memory fakes of the ports (unit tests only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from datasources.cache.apq import ApqStore
from datasources.ports import Datasources
from domain.enums import (
    ApplicationStatus,
    CompanySize,
    EmploymentType,
    JobStatus,
    RemotePolicy,
    Seniority,
)
from domain.queries import (
    ApplicationFilter,
    CandidateFilter,
    CandidateOrder,
    CompanyFilter,
    CompanyOrder,
    JobFilter,
    JobOrder,
    Page,
    PageRequest,
)
from domain.records import (
    JOB_FIELDS,
    Application,
    Candidate,
    Company,
    Job,
    Location,
    Preferences,
    Skill,
)
from domain.viewer import Role, Viewer
from gateway.apq import PersistedQueries
from gateway.guard import RequestGuard
from gateway.limits import GatewayLimits
from gateway.security.authenticate import Authenticator, KeyCache
from gateway.security.tokens import TokenVerifier
from gateway.settings import Settings

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ADMIN = Viewer(Role.ADMIN, user_id="admin")  # graph-mechanics tests read everything


def company(id: int = 1, **over: Any) -> Company:
    base = Company(
        id=id, slug=f"company-{id}", name=f"Company {id}", industry="Software",
        size=CompanySize.S51_200, headquarters="Mumbai, India", website=None,
        founded_year=2015, description=None, created_at=T0, updated_at=T0,
    )  # fmt: skip
    return replace(base, **over)


def job(id: int = 1, company_id: int = 1, **over: Any) -> Job:
    base = Job(
        id=id, company_id=company_id, title=f"Backend Engineer {id}", description="Build APIs.",
        location="Mumbai, India", city="Mumbai", country="IN", remote=RemotePolicy.HYBRID,
        employment_type=EmploymentType.FULL_TIME, seniority=Seniority.MID, experience_min=3,
        experience_max=4, salary_min=1_500_000, salary_max=2_800_000, salary_currency="INR",
        skills=("python", "fastapi"), status=JobStatus.OPEN,
        posted_at=T0 - timedelta(hours=id), created_at=T0, updated_at=T0,
    )  # fmt: skip
    return replace(base, **over)


def candidate(id: str = "0" * 23 + "1", **over: Any) -> Candidate:
    base = Candidate(
        id=id, name="Asha Rao", email=f"asha.{id}@example.com", phone=None,
        headline="Backend Engineer", summary=None, location=Location("Mumbai", "IN"),
        skills=(Skill("python", 4, 5.0),), experience=(), education=(), links=(),
        preferences=Preferences(remote=True, locations=("Mumbai",), salary_expectation=None),
        years_experience=5, version=1, created_at=T0, updated_at=T0,
        attributes={"notice_period_days": 30},
    )  # fmt: skip
    return replace(base, **over)


def application(id: int, job_id: int, candidate_id: str, **over: Any) -> Application:
    base = Application(
        id=id, job_id=job_id, candidate_id=candidate_id, status=ApplicationStatus.APPLIED,
        source="direct", applied_at=T0 + timedelta(minutes=id), updated_at=T0,
    )  # fmt: skip
    return replace(base, **over)


def cid(n: int) -> str:
    return f"{n:024x}"


@dataclass
class CallLog:
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


def _page(items: list[Any], key: Any, page: PageRequest) -> Page[Any]:
    rows = sorted(items, key=key, reverse=True)
    if page.after is not None:
        rows = [r for r in rows if key(r) < page.after]
    chunk = rows[: page.size]
    return Page(chunk, [key(r) for r in chunk], has_next_page=len(rows) > page.size)


@dataclass
class FakeCompanies:
    rows: dict[int, Company]
    log: CallLog

    async def get_many(self, ids: Sequence[int]) -> list[Company | None]:
        self.log.record("companies.get_many", tuple(ids))
        return [self.rows.get(i) for i in ids]

    async def get_many_by_slug(self, slugs: Sequence[str]) -> list[Company | None]:
        self.log.record("companies.get_many_by_slug", tuple(slugs))
        by_slug = {c.slug: c for c in self.rows.values()}
        return [by_slug.get(s) for s in slugs]

    async def search(
        self, f: CompanyFilter, order: CompanyOrder, page: PageRequest
    ) -> Page[Company]:
        self.log.record("companies.search", f, order, page)
        return _page(list(self.rows.values()), lambda c: (c.name, c.id), page)

    async def count(self, f: CompanyFilter) -> int:
        self.log.record("companies.count", f)
        return len(self.rows)


@dataclass
class FakeJobs:
    rows: dict[int, Job]
    log: CallLog

    def _open(self) -> list[Job]:
        return [j for j in self.rows.values() if j.status is JobStatus.OPEN and j.posted_at]

    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        self.log.record("jobs.get_many", tuple(ids))
        return [self.rows.get(i) for i in ids]

    async def search(
        self, f: JobFilter, order: JobOrder, page: PageRequest, fields: frozenset[str] | None = None
    ) -> Page[Job]:
        self.log.record("jobs.search", f, order, page)
        found = _page(self._open(), lambda j: (j.posted_at, j.id), page)
        if fields is None or not fields <= JOB_FIELDS:
            return found
        # As the adapter does: records carry only what was asked, so a read that was
        # not declared fails instead of passing on a whole record.
        keep = fields | {"id", "posted_at"}
        return replace(found, items=[_partial(j, keep) for j in found.items])

    async def count(self, f: JobFilter) -> int:
        self.log.record("jobs.count", f)
        return len(self._open())

    async def for_companies(
        self, company_ids: Sequence[int], f: JobFilter, limit: int
    ) -> dict[int, Page[Job]]:
        self.log.record("jobs.for_companies", tuple(company_ids), f, limit)
        req = PageRequest(limit)
        key = lambda j: (j.posted_at, j.id)  # noqa: E731
        return {
            c: _page([j for j in self._open() if j.company_id == c], key, req) for c in company_ids
        }

    async def matching_for(
        self, profiles: Sequence[dict[str, Any]], limit: int
    ) -> dict[str, list[Job]]:
        self.log.record("jobs.matching_for", tuple(p["pid"] for p in profiles), limit)
        return {
            p["pid"]: [j for j in self._open() if set(j.skills) & set(p["skills"])][:limit]
            for p in profiles
        }


@dataclass
class FakeApplications:
    rows: dict[int, Application]
    log: CallLog

    jobs: FakeJobs | None = None  # for the company scope

    async def get_many(self, ids: Sequence[int], f: ApplicationFilter) -> list[Application | None]:
        self.log.record("applications.get_many", tuple(ids))
        return [a if (a := self.rows.get(i)) and self._in(a, f) else None for i in ids]

    def _in(self, a: Application, f: ApplicationFilter) -> bool:
        if f.statuses is not None and a.status not in f.statuses:
            return False
        if f.candidate_id is not None and a.candidate_id != f.candidate_id:
            return False
        return f.company_id is None or self._company_of(a) == f.company_id

    def _company_of(self, a: Application) -> int | None:
        job = self.jobs.rows.get(a.job_id) if self.jobs is not None else None
        return job.company_id if job is not None else None

    def _of(self, match: Any, f: ApplicationFilter) -> list[Application]:
        return [a for a in self.rows.values() if match(a) and self._in(a, f)]

    async def applied_to(self, candidate_ids: Sequence[str]) -> dict[str, frozenset[int]]:
        self.log.record("applications.applied_to", tuple(candidate_ids))
        found: dict[str, set[int]] = {c: set() for c in candidate_ids}
        for a in self.rows.values():
            company = self._company_of(a)
            if a.candidate_id in found and company is not None:
                found[a.candidate_id].add(company)
        return {c: frozenset(v) for c, v in found.items()}

    async def applicants(self, company_id: int) -> frozenset[str]:
        self.log.record("applications.applicants", company_id)
        return frozenset(
            a.candidate_id for a in self.rows.values() if self._company_of(a) == company_id
        )

    async def for_jobs(
        self, job_ids: Sequence[int], f: ApplicationFilter, limit: int
    ) -> dict[int, Page[Application]]:
        self.log.record("applications.for_jobs", tuple(job_ids), f, limit)
        key = lambda a: (a.applied_at, a.id)  # noqa: E731
        return {
            j: _page(self._of(lambda a, j=j: a.job_id == j, f), key, PageRequest(limit))
            for j in job_ids
        }

    async def for_candidates(
        self, ids: Sequence[str], f: ApplicationFilter, limit: int
    ) -> dict[str, Page[Application]]:
        self.log.record("applications.for_candidates", tuple(ids), f, limit)
        key = lambda a: (a.applied_at, a.id)  # noqa: E731
        return {
            c: _page(self._of(lambda a, c=c: a.candidate_id == c, f), key, PageRequest(limit))
            for c in ids
        }

    async def count_for_jobs(self, job_ids: Sequence[int], f: ApplicationFilter) -> dict[int, int]:
        self.log.record("applications.count_for_jobs", tuple(job_ids), f)
        return {j: len(self._of(lambda a, j=j: a.job_id == j, f)) for j in job_ids}

    async def count_for_candidates(
        self, ids: Sequence[str], f: ApplicationFilter
    ) -> dict[str, int]:
        self.log.record("applications.count_for_candidates", tuple(ids), f)
        return {c: len(self._of(lambda a, c=c: a.candidate_id == c, f)) for c in ids}


@dataclass
class FakeCandidates:
    rows: dict[str, Candidate]
    log: CallLog

    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]:
        self.log.record("candidates.get_many", tuple(ids))
        return [self.rows.get(i) for i in ids]

    async def search(
        self, f: CandidateFilter, order: CandidateOrder, page: PageRequest
    ) -> Page[Candidate]:
        self.log.record("candidates.search", f, order, page)
        return _page(self._scoped(f), lambda c: (c.updated_at, c.id), page)

    async def count(self, f: CandidateFilter) -> int:
        self.log.record("candidates.count", f)
        return len(self._scoped(f))

    def _scoped(self, f: CandidateFilter) -> list[Candidate]:
        return [c for c in self.rows.values() if f.ids is None or c.id in f.ids]

    async def matching_for(
        self, jobs: Sequence[tuple[int, Sequence[str]]], limit: int
    ) -> dict[int, list[str]]:
        self.log.record("candidates.matching_for", tuple(j for j, _ in jobs), limit)
        return {j: list(self.rows)[:limit] for j, _ in jobs}  # ids, as the port says


def fake_datasources(
    companies: Sequence[Company] = (),
    jobs: Sequence[Job] = (),
    candidates: Sequence[Candidate] = (),
    applications: Sequence[Application] = (),
) -> tuple[Datasources, CallLog]:
    log = CallLog()

    async def ok() -> None:
        return None

    fake_jobs = FakeJobs({j.id: j for j in jobs}, log)
    ds = Datasources(
        companies=FakeCompanies({c.id: c for c in companies}, log),
        jobs=fake_jobs,
        applications=FakeApplications({a.id: a for a in applications}, log, fake_jobs),
        candidates=FakeCandidates({c.id: c for c in candidates}, log),
        probes={"postgres": ok, "mongo": ok, "redis": ok},
    )
    return ds, log


def _partial(job: Job, names: frozenset[str]) -> Job:
    record: Job = object.__new__(Job)
    for name in names:
        object.__setattr__(record, name, getattr(job, name))
    return record


class _NoKeys:
    """No API key exists and no document is registered (apps built without stores)."""

    async def lookup(self, presented: str) -> None:
        return None

    async def is_trusted(self, key_id: str, sha256_hex: str) -> bool:
        return False


@dataclass
class MemoryApqStore:
    """The APQ store in a dict, with a log of its calls."""

    texts: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def get(self, sha256_hex: str) -> str | None:
        self.calls.append(("get", sha256_hex))
        return self.texts.get(sha256_hex)

    async def put(self, sha256_hex: str, query: str) -> None:
        self.calls.append(("put", sha256_hex))
        self.texts[sha256_hex] = query


def install_guard(app: Any, settings: Settings, apq: ApqStore | None = None) -> None:
    """The request guard `create_app`'s lifespan would build, for an app run without it:
    JWTs as configured, no API keys, rate limits in process memory, persisted queries in
    `apq` (a fresh MemoryApqStore by default; none when `settings.apq` disables them)."""
    authenticator = Authenticator(
        TokenVerifier.from_settings(settings.auth), _NoKeys(), KeyCache(0)
    )
    limits = GatewayLimits.create(settings.limits, app.graphql.schema._schema, None)
    store = (apq or MemoryApqStore()) if settings.apq.enabled else None
    app.state.guard = RequestGuard(
        settings, authenticator, limits, _NoKeys(), PersistedQueries(store)
    )
