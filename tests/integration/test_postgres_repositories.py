"""PostgreSQL adapters against a real server: batch order, keyset paging, one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from datasources.postgres.applications import PgApplicationRepository
from datasources.postgres.companies import PgCompanyRepository
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.jobs import PgJobRepository
from datasources.postgres.reader import create_pool
from domain.enums import ApplicationStatus, JobStatus
from domain.queries import ApplicationFilter, JobFilter, JobOrder, JobOrderField, PageRequest
from tests.roundtrips import statements

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[asyncpg.Pool]:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.executemany(
            "INSERT INTO companies (id, slug, name, industry) VALUES ($1, $2, $3, 'Software')",
            [(i, f"co-{i}", f"Co {i}") for i in range(1, 6)],
        )
        rows = []
        for i in range(1, 41):
            status = "draft" if i % 10 == 0 else "open"
            posted = None if status == "draft" else T0 - timedelta(hours=i // 2)  # ties
            rows.append((i, 1 + i % 5, f"Job {i}", status, posted))
        await conn.executemany(
            "INSERT INTO jobs (id, company_id, title, description, location, country, remote,"
            " employment_type, seniority, status, posted_at) VALUES ($1, $2, $3, 'd', 'Pune',"
            " 'IN', 'remote', 'full_time', 'mid', $4, $5)",
            rows,
        )
    finally:
        await conn.close()
    pool = await create_pool(
        asyncpg_dsn(pg_url), max_size=2, acquire_timeout=5, statement_timeout_ms=5000
    )
    yield pool
    await pool.close()


async def test_get_many_keeps_key_order_with_none_for_missing(engine: asyncpg.Pool) -> None:
    repo = PgCompanyRepository(engine)
    with statements() as log:
        got = await repo.get_many([3, 99, 1, 3])
    assert [c.slug if c else None for c in got] == ["co-3", None, "co-1", "co-3"]
    assert log.postgres == 1


async def test_get_many_by_slug(engine: asyncpg.Pool) -> None:
    got = await PgCompanyRepository(engine).get_many_by_slug(["co-2", "nope", "' OR 1=1 --"])
    assert [c.id if c else None for c in got] == [2, None, None]


async def test_open_page_is_keyset_paged_with_unique_tie_breaker(engine: asyncpg.Pool) -> None:
    repo = PgJobRepository(engine)
    seen: list[int] = []
    after = None
    while True:
        page = await repo.search(JobFilter(), JobOrder(), PageRequest(7, after))
        seen += [j.id for j in page.items]
        if not page.has_next_page:
            break
        after = page.keys[-1]
    expected = [i for i in range(1, 41) if i % 10 != 0]
    expected.sort(key=lambda i: (T0 - timedelta(hours=i // 2), i), reverse=True)
    assert seen == expected
    assert len(seen) == len(set(seen)) == 36


async def test_jobs_get_many_maps_rows_to_records(engine: asyncpg.Pool) -> None:
    (job, missing) = await PgJobRepository(engine).get_many([10, 404])
    assert missing is None
    assert job is not None
    assert job.status is JobStatus.DRAFT
    assert job.posted_at is None
    assert job.skills == ()


async def test_backward_page_ends_where_the_forward_one_started(engine: asyncpg.Pool) -> None:
    repo = PgJobRepository(engine)
    forward = await repo.search(JobFilter(), JobOrder(), PageRequest(10))
    second = await repo.search(JobFilter(), JobOrder(), PageRequest(5, forward.keys[-1]))
    back = await repo.search(JobFilter(), JobOrder(), PageRequest(5, second.keys[0], backward=True))
    assert [j.id for j in back.items] == [j.id for j in forward.items[5:]]
    assert back.has_previous_page
    assert back.has_next_page


async def test_per_company_pages_are_one_statement(engine: asyncpg.Pool) -> None:
    repo = PgJobRepository(engine)
    with statements() as log:
        pages = await repo.for_companies([1, 2, 3, 404], JobFilter(), 2)
    assert log.postgres == 1
    assert set(pages) == {1, 2, 3, 404}
    assert pages[404].items == []
    for company_id in (1, 2, 3):
        page = pages[company_id]
        assert len(page.items) == 2
        assert page.has_next_page
        assert all(j.company_id == company_id for j in page.items)
        assert [k for k in page.keys] == sorted(page.keys, reverse=True)


async def test_applications_per_job_and_counts(engine: asyncpg.Pool, pg_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.executemany(
            "INSERT INTO applications (job_id, candidate_id, status, applied_at)"
            " VALUES ($1, $2, $3, $4)",
            [(1 + i % 3, f"{i:024x}", "hired" if i % 4 == 0 else "applied",
              T0 + timedelta(minutes=i)) for i in range(1, 31)],
        )  # fmt: skip
    finally:
        await conn.close()
    repo = PgApplicationRepository(engine)
    with statements() as log:
        pages = await repo.for_jobs([1, 2, 3], ApplicationFilter(), 4)
        counts = await repo.count_for_jobs([1, 2, 3, 9], ApplicationFilter())
        hired = await repo.count_for_jobs([1, 2, 3], ApplicationFilter((ApplicationStatus.HIRED,)))
        mine = await repo.for_candidates([f"{4:024x}", "0" * 24], ApplicationFilter(), 5)
    assert log.postgres == 4
    assert counts == {1: 10, 2: 10, 3: 10, 9: 0}
    assert sum(hired.values()) == 7
    assert all(len(p.items) == 4 and p.has_next_page for p in pages.values())
    newest = pages[1].items[0]
    assert newest.applied_at == max(
        a.applied_at for p in pages.values() for a in p.items if a.job_id == 1
    )
    assert [a.status for a in mine[f"{4:024x}"].items] == [ApplicationStatus.HIRED]
    assert mine["0" * 24].items == []


async def test_matching_jobs_rank_by_shared_skills(engine: asyncpg.Pool, pg_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.execute("UPDATE jobs SET skills = ARRAY['python','kafka'] WHERE id = 1")
        await conn.execute("UPDATE jobs SET skills = ARRAY['python'] WHERE id = 2")
        await conn.execute("UPDATE jobs SET skills = ARRAY['go'] WHERE id = 3")
    finally:
        await conn.close()
    profiles = [
        {"pid": "a", "skills": ["python", "kafka"], "remote": True, "cities": [], "country": "IN"},
        {"pid": "b", "skills": ["rust"], "remote": False, "cities": [], "country": None},
    ]
    with statements() as log:
        found = await PgJobRepository(engine).matching_for(profiles, 5)
    assert log.postgres == 1
    assert [j.id for j in found["a"]] == [1, 2]
    assert found["b"] == []


@pytest.mark.parametrize("order", [JobOrder(), JobOrder(JobOrderField.SALARY_MAX)])
async def test_projected_pages_read_only_the_asked_fields(
    engine: asyncpg.Pool, order: JobOrder
) -> None:
    repo = PgJobRepository(engine)
    whole = await repo.search(JobFilter(), order, PageRequest(7))
    with statements() as log:
        projected = await repo.search(JobFilter(), order, PageRequest(7), frozenset({"title"}))
    assert log.postgres == 1
    assert [(j.id, j.title, j.posted_at) for j in projected.items] == [
        (j.id, j.title, j.posted_at) for j in whole.items
    ]
    assert projected.keys == whole.keys
    assert projected.has_next_page == whole.has_next_page
    with pytest.raises(AttributeError):
        _ = projected.items[0].description  # left out, so unreadable rather than wrong


async def test_projection_with_an_unknown_field_reads_whole_jobs(engine: asyncpg.Pool) -> None:
    repo = PgJobRepository(engine)
    page = await repo.search(JobFilter(), JobOrder(), PageRequest(3), frozenset({"not_a_field"}))
    assert page.items[0].description == "d"


async def test_job_scope_is_part_of_the_statement(engine: asyncpg.Pool) -> None:
    repo = PgJobRepository(engine)
    statuses = (JobStatus.OPEN, JobStatus.DRAFT)  # every draft belongs to company 1
    own = JobFilter(statuses=statuses, scope_company_id=1)
    other = JobFilter(statuses=statuses, scope_company_id=2)
    page = await repo.search(own, JobOrder(), PageRequest(100))
    drafts = [j for j in page.items if j.status is JobStatus.DRAFT]
    assert len(drafts) == 4
    assert all(j.company_id == 1 for j in drafts)
    assert await repo.count(own) == 40
    assert await repo.count(other) == 36  # counts never include hidden rows
    other_page = await repo.search(other, JobOrder(), PageRequest(100))
    assert all(j.status is JobStatus.OPEN for j in other_page.items)
    per_company = await repo.for_companies([1], other, 10)
    assert all(j.status is JobStatus.OPEN for j in per_company[1].items)


async def test_application_scope_is_part_of_the_statement(
    engine: asyncpg.Pool, pg_url: str
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:  # jobs 1, 2, 3 belong to companies 2, 3, 4
        await conn.executemany(
            "INSERT INTO applications (id, job_id, candidate_id, status, applied_at)"
            " VALUES ($1, $2, $3, 'applied', $4)",
            [(i, 1 + i % 3, f"{i % 10:024x}", T0 + timedelta(minutes=i)) for i in range(1, 31)],
        )
    finally:
        await conn.close()
    repo = PgApplicationRepository(engine)
    company2 = ApplicationFilter(company_id=2)
    with statements() as log:
        pages = await repo.for_jobs([1, 2], company2, 50)
        counts = await repo.count_for_jobs([1, 2], company2)
        by_candidate = await repo.count_for_candidates([f"{1:024x}"], company2)
        got = await repo.get_many([3, 1], company2)  # 3 -> job 1 (company 2), 1 -> job 2
        applied = await repo.applied_to([f"{1:024x}", "f" * 24])
        applicants = await repo.applicants(2)
    assert log.postgres == 6
    assert len(pages[1].items) == 10
    assert pages[2].items == []
    assert counts == {1: 10, 2: 0}
    assert by_candidate == {f"{1:024x}": 1}  # candidate 1 applied to jobs 2, 3 and 1
    assert [a.id if a else None for a in got] == [3, None]
    assert applied == {f"{1:024x}": frozenset({2, 3, 4}), "f" * 24: frozenset()}
    assert applicants == {f"{i:024x}" for i in range(10)}
    own = ApplicationFilter(candidate_id=f"{1:024x}")
    mine = await repo.for_candidates([f"{1:024x}", f"{2:024x}"], own, 50)
    assert len(mine[f"{1:024x}"].items) == 3
    assert mine[f"{2:024x}"].items == []
