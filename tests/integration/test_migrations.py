"""The Alembic migrations against a real PostgreSQL: reversible, constraints enforced."""

from __future__ import annotations

import asyncpg
import pytest

from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.migrate import downgrade_async, upgrade_async
from tests.stores import StoreUrls, unique_name, with_database

pytestmark = pytest.mark.integration

INSERT_JOB = (
    "INSERT INTO jobs (company_id, title, description, location, country, remote,"
    " employment_type, seniority, status, posted_at, salary_min, salary_max, salary_currency)"
    " VALUES (1, 't', 'd', 'x', 'IN', 'remote', 'full_time', 'mid', $1, $2, $3, $4, $5)"
)


async def test_upgrade_downgrade_upgrade(stores: StoreUrls) -> None:
    name = unique_name("hg_mig")
    admin = await asyncpg.connect(asyncpg_dsn(stores.postgres))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(stores.postgres, name)
    try:
        await upgrade_async(url)
        await downgrade_async(url, "base")
        conn = await asyncpg.connect(asyncpg_dsn(url))
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        await conn.close()
        assert {t["tablename"] for t in tables} == {"alembic_version"}
        await upgrade_async(url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.parametrize(
    ("args", "constraint"),
    [
        (("open", None, None, None, None), "jobs_posted_when_open"),
        (("draft", None, 10, 5, "INR"), "jobs_salary_range"),
        (("draft", None, 10, 20, None), "jobs_salary_currency"),
    ],
)
async def test_job_constraints(pg_url: str, args: tuple[object, ...], constraint: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.execute(
            "INSERT INTO companies (id, slug, name, industry) VALUES (1,'a','A','x')"
        )
        with pytest.raises(asyncpg.CheckViolationError) as info:
            await conn.execute(INSERT_JOB, *args)
        assert info.value.constraint_name == constraint
    finally:
        await conn.close()


async def test_search_vector_is_generated_and_ranked(pg_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.execute(
            "INSERT INTO companies (id, slug, name, industry) VALUES (1,'a','A','x')"
        )
        await conn.execute(
            "INSERT INTO jobs (company_id, title, description, location, country, remote,"
            " employment_type, seniority) VALUES (1, 'Backend Engineer', 'Kafka pipelines',"
            " 'x', 'IN', 'remote', 'full_time', 'mid')"
        )
        hit = await conn.fetchval(
            "SELECT title FROM jobs WHERE search @@ websearch_to_tsquery('english', 'kafka')"
        )
        assert hit == "Backend Engineer"
    finally:
        await conn.close()
