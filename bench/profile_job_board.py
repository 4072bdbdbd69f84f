"""Where the time goes: the job-board operation executed in-process under cProfile.

    uv run --extra embedded python bench/profile_job_board.py [--requests 300]

Runs the schema directly over the real stores (no HTTP), so the profile shows GraphQL
execution, resolvers, loaders and drivers. Prints the top functions by own time and by
cumulative time, and the mean wall time per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.job_board import QUERY  # noqa: E402
from domain.viewer import Role, Viewer  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.embedded import EmbeddedStores  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from resolvers.context import Context  # noqa: E402
from schema import build_schema  # noqa: E402

ADMIN = Viewer(Role.ADMIN, user_id="bench")  # sees every applicant count, as the naive app


async def run(settings: Settings, requests: int, profile: bool) -> None:
    app = create_app(settings)
    schema = build_schema()
    async with app.router.lifespan_context(app):
        datasources = app.state.datasources

        async def once() -> None:
            result = await schema.execute(QUERY, context_value=Context(datasources, viewer=ADMIN))
            assert result.errors is None, result.errors

        for _ in range(20):
            await once()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        if profile:
            profiler.enable()
        for _ in range(requests):
            await once()
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{requests} operations, {elapsed / requests * 1000:.2f} ms each (sequential)")
        if profile:
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    with EmbeddedStores(Path(args.data_dir), ["postgres", "mongo", "redis"]) as stores:
        urls = stores.urls
        settings = Settings(
            postgres_url=urls["postgres"], mongo_url=urls["mongo"], redis_url=urls["redis"]
        )
        asyncio.run(run(settings, args.requests, not args.no_profile))


if __name__ == "__main__":
    main()
