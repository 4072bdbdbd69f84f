"""Where a board-wide rollup refresh spends its time: each INSERT ... SELECT of
`refresh_statements` timed on its own (in one transaction, rolled back), then full
refreshes (`JobStatsRollup.refresh`) as the worker runs them.

    .venv/bin/python bench/rollup_refresh.py postgresql://postgres@127.0.0.1:5432/hg_r_large
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasources.postgres.reader import compile_statement
from datasources.postgres.rollup import (
    REFRESH_SETTINGS,
    JobStatsRollup,
    refresh_statements,
)


async def main(dsn: str, refreshes: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        tx = conn.transaction(isolation="repeatable_read")
        await tx.start()
        for setting in REFRESH_SETTINGS:
            await conn.execute(setting)
        for stmt in refresh_statements(-1):  # a snapshot id no reader points at
            sql, args = compile_statement(stmt)
            started = time.perf_counter()
            status = await conn.execute(sql, *args)
            group_by = sql[sql.index("GROUP BY") :][:80]
            print(f"{time.perf_counter() - started:6.2f} s  {status:>12}  {group_by}")
        await tx.rollback()
    finally:
        await conn.close()
    for _ in range(refreshes):
        done = await JobStatsRollup(dsn).refresh()
        if done is None:
            sys.exit("another process holds the rollup's refresh lock")
        print(f"refresh: {done.seconds:.2f} s, {done.rows} rows, snapshot {done.snapshot}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("dsn", help="asyncpg DSN of a migrated, seeded database")
    parser.add_argument("--refreshes", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.refreshes))
