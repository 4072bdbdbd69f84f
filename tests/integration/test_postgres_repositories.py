"""PostgreSQL adapters against a real server: batch order, keyset paging, one statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.engine import asyncpg_dsn, create_engine
from datasources.postgres.repositories import PgCompanyRepository, PgJobRepository
from domain.enums import JobStatus
from tests.roundtrips import sql_statements

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
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
    eng = create_engine(
        pg_url, pool_size=2, max_overflow=0, pool_timeout=5, connect_timeout=5,
        statement_timeout_ms=5000,
    )  # fmt: skip
    yield eng
    await eng.dispose()


async def test_get_many_keeps_key_order_with_none_for_missing(engine: AsyncEngine) -> None:
    repo = PgCompanyRepository(engine)
    with sql_statements(engine) as log:
        got = await repo.get_many([3, 99, 1, 3])
    assert [c.slug if c else None for c in got] == ["co-3", None, "co-1", "co-3"]
    assert len(log.statements) == 1


async def test_get_many_by_slug(engine: AsyncEngine) -> None:
    got = await PgCompanyRepository(engine).get_many_by_slug(["co-2", "nope", "' OR 1=1 --"])
    assert [c.id if c else None for c in got] == [2, None, None]


async def test_open_page_is_keyset_paged_with_unique_tie_breaker(engine: AsyncEngine) -> None:
    repo = PgJobRepository(engine)
    seen: list[int] = []
    after = None
    while True:
        page = await repo.open_page(7, after)
        seen += [j.id for j in page]
        if len(page) < 7:
            break
        after = (page[-1].posted_at, page[-1].id)  # type: ignore[assignment]
    expected = [i for i in range(1, 41) if i % 10 != 0]
    expected.sort(key=lambda i: (T0 - timedelta(hours=i // 2), i), reverse=True)
    assert seen == expected
    assert len(seen) == len(set(seen)) == 36


async def test_jobs_get_many_maps_rows_to_records(engine: AsyncEngine) -> None:
    (job, missing) = await PgJobRepository(engine).get_many([10, 404])
    assert missing is None
    assert job is not None
    assert job.status is JobStatus.DRAFT
    assert job.posted_at is None
    assert job.skills == ()
