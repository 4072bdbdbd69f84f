"""Bulk-load companies, jobs and applications over one raw asyncpg connection.

Rows go in with binary COPY (`copy_records_to_table`) in batches, with explicit ids;
afterwards each identity sequence is moved past the largest id so the application's own
inserts do not collide. The whole load is one transaction: a failure leaves no rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from datasources.seed.dataset import Dataset
from datasources.seed.pipeline import write_batches
from datasources.seed.report import Advance, EntityStats
from datasources.seed.rows import ApplicationRow, CompanyRow, JobRow

TABLES = ("companies", "jobs", "applications")
_BATCH = {"companies": 5_000, "jobs": 2_000, "applications": 20_000}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": CompanyRow._fields,
    "jobs": JobRow._fields,
    "applications": ApplicationRow._fields,
}

# Ids were written explicitly, so move each identity past the largest one: setval(seq,
# max, true) makes the next generated id max + 1 (and an empty table starts at 1 again).
# Afterwards, fresh statistics give the first queries after a seed sensible plans.
_SYNC_IDENTITIES = """
SELECT setval(pg_get_serial_sequence('companies', 'id'), coalesce(max(id), 1), count(*) > 0)
  FROM companies;
SELECT setval(pg_get_serial_sequence('jobs', 'id'), coalesce(max(id), 1), count(*) > 0)
  FROM jobs;
SELECT setval(pg_get_serial_sequence('applications', 'id'), coalesce(max(id), 1), count(*) > 0)
  FROM applications;
"""

# asyncpg ships no type stubs; the connection is used through these few methods.
Connection = Any


async def has_rows(conn: Connection) -> bool:
    """Whether the relational side already holds a seed (companies is the root table)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM companies)"))


async def truncate(conn: Connection) -> float:
    """Empty the three tables and restart their ids; return the seconds it took."""
    started = time.perf_counter()
    await conn.execute("TRUNCATE companies, jobs, applications RESTART IDENTITY CASCADE")
    return time.perf_counter() - started


async def _copy_table(
    conn: Connection, table: str, records: Iterator[Any], advance: Advance
) -> EntityStats:
    columns = _COLUMNS[table]

    async def write(batch: list[Any]) -> None:
        await conn.copy_records_to_table(table, records=batch, columns=columns)

    return await write_batches(table, "postgres", records, _BATCH[table], write, advance)


async def load_postgres(
    conn: Connection, data: Dataset, advance: Mapping[str, Advance], *, reset: bool
) -> tuple[list[EntityStats], float]:
    """Companies, then jobs, then applications (foreign keys point backwards).

    Returns the per-table stats and the seconds spent truncating first (if `reset`).
    """
    reset_seconds = await truncate(conn) if reset else 0.0
    sources: dict[str, Iterator[Any]] = {
        "companies": data.company_rows(),
        "jobs": data.job_rows(),
        "applications": data.application_rows(),
    }
    stats = []
    for table in TABLES:
        stats.append(await _copy_table(conn, table, sources[table], advance[table]))
    await conn.execute(_SYNC_IDENTITIES)
    await conn.execute("ANALYZE companies, jobs, applications")
    return stats, reset_seconds
