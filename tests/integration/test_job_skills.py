"""job_skills (migration 0006) against a real server: the triggers keep it equal to
`jobs LEFT JOIN unnest(skills) WITH ORDINALITY` through every kind of write, and the
SKILL aggregates that read it answer as the brute force over the jobs rows does, with
the filters that only `jobs` can evaluate (search, skills arrays) and the viewer scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.analytics import PgAnalytics
from datasources.postgres.engine import asyncpg_dsn, create_engine
from datasources.postgres.job_writes import PgJobWriter
from datasources.postgres.reader import create_pool
from datasources.seed import Dataset, Scale
from datasources.seed.postgres import load_postgres
from domain.analytics import JobGroup, JobStatsQuery, StatsOrder, percentile
from domain.commands import Actor, Changes, NewJob
from domain.enums import EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.queries import JobFilter, SalaryFilter

pytestmark = pytest.mark.integration
ME = Actor("user:analyst-test")

# The job columns migration 0006 copies. What job_skills must hold is derived from the
# jobs rows in Python, row by row.
COPIED = (
    "status", "company_id", "country", "city", "remote", "employment_type", "seniority",
    "posted_at", "salary_min", "salary_max", "salary_currency",
)  # fmt: skip
JOBS = "SELECT id, skills, " + ", ".join(COPIED) + " FROM jobs"
SIDE = "SELECT job_id, ord, skill, salary, " + ", ".join(COPIED) + " FROM job_skills"


def _salary(lo: int | None, hi: int | None) -> float | None:
    if lo is not None and hi is not None:
        return (lo + hi) * 0.5
    return float(lo) if lo is not None else (float(hi) if hi is not None else None)


def expected_side(jobs: list[asyncpg.Record]) -> set[tuple[Any, ...]]:
    rows = set()
    for j in jobs:
        copied = tuple(j[c] for c in COPIED)
        salary = _salary(j["salary_min"], j["salary_max"])
        pairs = list(enumerate(j["skills"], start=1)) or [(0, None)]
        rows |= {(j["id"], ord_, skill, salary, *copied) for ord_, skill in pairs}
    return rows


class Db:
    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def assert_side_table_matches(self) -> None:
        side = {tuple(r) for r in await self.fetch(SIDE)}
        assert side == expected_side(await self.fetch(JOBS))


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(
        pg_url, pool_size=2, max_overflow=0, pool_timeout=5, connect_timeout=5,
        statement_timeout_ms=10_000,
    )  # fmt: skip
    yield eng
    await eng.dispose()


@pytest.fixture
async def seeded(pg_url: str) -> Db:
    """A small seed, loaded by the seeder's COPY (a statement trigger per batch)."""
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        async with conn.transaction():
            data = Dataset.build(Scale(companies=20, jobs=300, candidates=50, applications=600), 7)
            names = ("companies", "jobs", "applications")
            await load_postgres(conn, data, {n: lambda _: None for n in names}, reset=False)
    finally:
        await conn.close()
    return Db(pg_url)


def _new_job(company_id: int, **over: Any) -> NewJob:
    base: dict[str, Any] = {
        "company_id": company_id, "title": "Data Engineer", "description": "Pipelines.",
        "location": "Pune, India", "country": "in", "remote": RemotePolicy.HYBRID,
        "employment_type": EmploymentType.FULL_TIME, "seniority": Seniority.MID,
        "city": "Pune", "salary_min": 1_000_000, "salary_max": 1_500_000,
        "salary_currency": "inr", "skills": ("kafka", "python"), "publish": True,
    }  # fmt: skip
    return NewJob(**{**base, **over})


async def test_seed_copy_fills_the_side_table(seeded: Db) -> None:
    await seeded.assert_side_table_matches()
    n = await seeded.fetch("SELECT count(*) FROM job_skills")
    assert n[0][0] > 300  # more than one row per job: the skills are unnested


async def test_writes_keep_the_side_table_in_step(seeded: Db, engine: AsyncEngine) -> None:
    writer = PgJobWriter(engine)
    posted = await writer.post(_new_job(1), ME)
    bare = await writer.post(_new_job(2, skills=(), salary_min=None, publish=False), ME)
    await seeded.assert_side_table_matches()
    assert {r["skill"] for r in await seeded.fetch(SIDE + " WHERE job_id = $1", bare.id)} == {None}
    await writer.update(posted.id, Changes({"skills": ("rust",), "seniority": Seniority.LEAD}), ME)
    await writer.update(bare.id, Changes({"skills": ("go", "sql")}), ME)
    await writer.publish(bare.id, ME)
    await writer.close(posted.id, ME)
    await seeded.assert_side_table_matches()

    # A change to none of the copied columns leaves the side rows alone (no trigger).
    before = await seeded.fetch("SELECT ctid, xmin FROM job_skills WHERE job_id = $1", bare.id)
    conn = await asyncpg.connect(seeded.dsn)
    try:
        await conn.execute(
            "UPDATE jobs SET application_count = application_count + 1, title = 'x' WHERE id = $1",
            bare.id,
        )
        await conn.execute("DELETE FROM applications WHERE job_id = $1", 3)
        await conn.execute("DELETE FROM jobs WHERE id = $1", 3)  # ON DELETE CASCADE
    finally:
        await conn.close()
    after = await seeded.fetch("SELECT ctid, xmin FROM job_skills WHERE job_id = $1", bare.id)
    assert [tuple(r) for r in before] == [tuple(r) for r in after]
    assert await seeded.fetch("SELECT 1 FROM job_skills WHERE job_id = 3") == []
    await seeded.assert_side_table_matches()


def _brute(jobs: list[asyncpg.Record], keep: Any) -> dict[tuple[Any, ...], list[Any]]:
    """(skill, seniority, currency) -> [count, salary values] over the kept jobs."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    for j in jobs:
        if not keep(j):
            continue
        currency = j["salary_currency"].strip() if j["salary_currency"] else None
        for skill in list(j["skills"]) or [None]:
            entry = found.setdefault((skill, j["seniority"], currency), [0, []])
            entry[0] += 1
            salary = _salary(j["salary_min"], j["salary_max"])
            entry[1] += [salary] if salary is not None else []
    return found


@pytest.mark.parametrize(
    ("f", "keep"),
    [
        (JobFilter(), lambda j: j["status"] == "open"),
        (
            JobFilter(search="engineer", statuses=(JobStatus.OPEN, JobStatus.CLOSED)),
            lambda j: j["status"] in ("open", "closed") and j["engineer"],
        ),
        (
            JobFilter(skills_all=("python",), seniorities=(Seniority.SENIOR, Seniority.MID)),
            lambda j: j["status"] == "open" and "python" in j["skills"]
            and j["seniority"] in ("senior", "mid"),
        ),
        (
            JobFilter(salary=SalaryFilter("inr", 1_000_000, None), countries=("IN",)),
            lambda j: j["status"] == "open" and j["salary_currency"] == "INR"
            and j["salary_max"] is not None and j["salary_max"] >= 1_000_000
            and j["country"] == "IN",
        ),
        (
            JobFilter(statuses=tuple(JobStatus), scope_company_id=4),
            lambda j: j["status"] == "open" or j["company_id"] == 4,
        ),
    ],
)  # fmt: skip
async def test_skill_stats_over_the_side_table_match_brute_force(
    seeded: Db, pg_url: str, f: JobFilter, keep: Any
) -> None:
    jobs = await seeded.fetch(
        "SELECT j.*, seniority::text AS seniority, status::text AS status,"
        " search @@ websearch_to_tsquery('english', 'engineer') AS engineer FROM jobs j"
    )
    expected = _brute(jobs, keep)
    pool = await create_pool(
        asyncpg_dsn(pg_url), max_size=1, acquire_timeout=5, statement_timeout_ms=5000
    )
    try:
        q = JobStatsQuery(f, (JobGroup.SKILL, JobGroup.SENIORITY), StatsOrder.KEY_ASC, 1000)
        got = await PgAnalytics(pool).job_stats(q)
    finally:
        await pool.close()
    assert expected  # the filter matches something
    keys = [(b.keys[JobGroup.SKILL], b.keys[JobGroup.SENIORITY], b.currency) for b in got]
    assert set(keys) == set(expected)
    # KEY_ASC: skill bytewise, then seniority in enum order, then currency; NULLs last.
    order = [s.value for s in Seniority]
    assert keys == sorted(
        keys,
        key=lambda k: (k[0] is None, (k[0] or "").encode(), order.index(k[1]),
                       k[2] is None, k[2] or ""),
    )  # fmt: skip
    for b, key in zip(got, keys, strict=True):
        n, values = expected[key]
        assert b.count == n
        assert b.salary.count == len(values)
        assert b.salary.p50 == pytest.approx(percentile(values, 0.5))
        assert b.salary.p90 == pytest.approx(percentile(values, 0.9))
