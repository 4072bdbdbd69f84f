"""Small builders for records, and in-memory fakes of the ports (unit tests only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from datasources.ports import Datasources, JobCursor
from domain.enums import CompanySize, EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.records import Candidate, Company, Job, Location, Preferences, Skill

T0 = datetime(2026, 11, 1, tzinfo=UTC)


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


@dataclass
class CallLog:
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


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


@dataclass
class FakeJobs:
    rows: dict[int, Job]
    log: CallLog

    async def get_many(self, ids: Sequence[int]) -> list[Job | None]:
        self.log.record("jobs.get_many", tuple(ids))
        return [self.rows.get(i) for i in ids]

    async def open_page(self, limit: int, after: JobCursor | None) -> list[Job]:
        self.log.record("jobs.open_page", limit, after)
        rows = sorted(
            (j for j in self.rows.values() if j.status is JobStatus.OPEN and j.posted_at),
            key=lambda j: (j.posted_at, j.id),
            reverse=True,
        )
        if after is not None:
            rows = [j for j in rows if (j.posted_at, j.id) < after]
        return rows[:limit]


@dataclass
class FakeCandidates:
    rows: dict[str, Candidate]
    log: CallLog

    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]:
        self.log.record("candidates.get_many", tuple(ids))
        return [self.rows.get(i) for i in ids]


def fake_datasources(
    companies: Sequence[Company] = (),
    jobs: Sequence[Job] = (),
    candidates: Sequence[Candidate] = (),
) -> tuple[Datasources, CallLog]:
    log = CallLog()

    async def ok() -> None:
        return None

    ds = Datasources(
        companies=FakeCompanies({c.id: c for c in companies}, log),
        jobs=FakeJobs({j.id: j for j in jobs}, log),
        candidates=FakeCandidates({c.id: c for c in candidates}, log),
        probes={"postgres": ok, "mongo": ok, "redis": ok},
    )
    return ds, log
