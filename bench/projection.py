"""What projecting the job board saves: its page read whole against the 8 columns it renders.

    uv run --extra embedded python bench/projection.py [--reads 1000]

Fetches the board's page (51 rows) through asyncpg with the fixed SQL the gateway
prepares, whole and projected, alternating, and turns the rows into records. Reports
the client CPU and the wall time per read (the wall time includes PostgreSQL's work).
Uses the benchmark's embedded stores (`--data-dir`) unless `--pg-url` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasources.postgres.engine import asyncpg_dsn  # noqa: E402
from datasources.postgres.jobs import _COLUMN_NAMES, _board_sql  # noqa: E402
from datasources.postgres.rows import partial_job_reader  # noqa: E402
from gateway.embedded import EmbeddedStores  # noqa: E402

BOARD_FIELDS = ("id", "company_id", "title", "location", "salary_min", "salary_max",
                "salary_currency", "posted_at")  # fmt: skip


async def measure(dsn: str, reads: int) -> None:
    conn = await asyncpg.connect(dsn)
    projected = tuple(n for n in _COLUMN_NAMES if n in BOARD_FIELDS)
    variants = {"whole (20 columns)": _COLUMN_NAMES, "projected (8 columns)": projected}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(3):  # alternate, so machine noise hits both alike
        for name, names in variants.items():
            sql, read = _board_sql(names, True, False), partial_job_reader(names)
            for _ in range(50):
                await conn.fetch(sql, "open", 51)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(reads):
                [read(r) for r in await conn.fetch(sql, "open", 51)]
            results[name].append(
                (
                    (time.process_time() - cpu) * 1000 / reads,
                    (time.perf_counter() - wall) * 1000 / reads,
                )
            )
    await conn.close()
    for name, runs in results.items():
        cpu, wall = min(c for c, _ in runs), min(w for _, w in runs)
        print(f"{name:<22} client CPU {cpu:.3f} ms/read, wall {wall:.3f} ms/read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--pg-url")
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    if args.pg_url:
        asyncio.run(measure(asyncpg_dsn(args.pg_url), args.reads))
        return
    with EmbeddedStores(Path(args.data_dir), ["postgres"]) as stores:
        asyncio.run(measure(asyncpg_dsn(stores.urls["postgres"]), args.reads))


if __name__ == "__main__":
    main()
