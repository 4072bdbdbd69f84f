"""Job-board benchmark: HireGraph uncached and with each cache, against graphql-core and a
naive N+1 Strawberry app, in one run.

Five variants run as one uvicorn worker each over the same stores and must answer the
same data: HireGraph (compiled operations, both caches off), HireGraph with the entity
cache, HireGraph with the response cache (and the entity cache), HireGraph with every
request through graphql-core ("interpreted", uncached), and a naive N+1 Strawberry app
(uncached). wrk drives them in alternating rounds so machine noise hits all alike. Round
trips per request are reported twice: what the gateway counted for the first (cold)
request, and what PostgreSQL and Redis themselves counted over warm requests.

    uv run --extra embedded python bench/job_board.py [--duration 15] [--rounds 3]

Unset --*-url options start embedded stores under --data-dir, migrated and seeded with
`medium` on first use (about a minute), and kept for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import httpx
import jwt
import orjson
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasources.postgres.engine import asyncpg_dsn  # noqa: E402
from gateway import provision  # noqa: E402
from gateway.embedded import EmbeddedStores, free_port  # noqa: E402
from gateway.settings import Settings  # noqa: E402

QUERY = """query JobBoard { jobs(first: 50, orderBy: POSTED_AT_DESC) { edges { node {
  title location salary { min { amount currency } max { amount currency } }
  company { name industry } applications { totalCount } } } } }"""
# Requests sign in as an ADMIN (HS256 token), the viewer who sees what the naive variant
# shows (every applicant count); the rate limit stays on, with a budget the load cannot
# spend, so each request still pays its Redis counter like any production request.
SECRET = "hiregraph-benchmark-secret-0123456789abcdef"
TOKEN = jwt.encode(
    {"sub": "bench", "role": "ADMIN", "exp": int(time.time()) + 86_400}, SECRET, algorithm="HS256"
)
AUTH_ENV = {
    "HIREGRAPH_AUTH__JWT_SECRET": SECRET,
    "HIREGRAPH_LIMITS__RATE_LIMITS": json.dumps(
        dict.fromkeys(["PUBLIC", "CANDIDATE", "RECRUITER", "ANALYST", "ADMIN"], "1000000000/minute")
    ),
}
VARIANTS = {
    "hiregraph": "bench.apps:hiregraph_app",
    "entity cache": "bench.apps:entity_cache_app",
    "response cache": "bench.apps:response_cache_app",
    "interpreted": "bench.apps:interpreted_app",
    "naive N+1": "bench.apps:naive_app",
}


def fail(message: str) -> NoReturn:
    raise SystemExit(f"error: {message}")


@contextmanager
def stores(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    urls = {"postgres": args.pg_url, "mongo": args.mongo_url, "redis": args.redis_url}
    embedded = EmbeddedStores(Path(args.data_dir), [s for s, u in urls.items() if not u])
    with embedded:
        urls = {**{s: u for s, u in urls.items() if u}, **embedded.urls}
        settings = Settings(
            postgres_url=urls["postgres"], mongo_url=urls["mongo"], redis_url=urls["redis"]
        )
        provision.migrate_or_fail(settings, fail)
        if provision.is_empty(settings):
            provision.seed_or_fail(settings, args.scale, 42, False, fail, progress=True)
        yield {f"HIREGRAPH_{s.upper()}_URL": u for s, u in urls.items()}


@contextmanager
def server(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1", "--no-access-log",
           "--log-level", "warning"]  # fmt: skip
    full_env = {**os.environ, **env, **AUTH_ENV, "HIREGRAPH_EXPOSE_ROUND_TRIPS": "true"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield f"{url}/graphql"
    finally:
        proc.terminate()
        proc.wait(20)


def check(url: str) -> tuple[dict[str, int], Any]:
    """Round trips of one request, and its data (every variant must answer the same)."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    body = httpx.post(url, json={"query": QUERY}, headers=headers, timeout=30).json()
    if body.get("errors") or len(body["data"]["jobs"]["edges"]) != 50:
        fail(f"{url} answered wrongly: {str(body)[:300]}")
    trips: dict[str, int] = body["extensions"]["roundTrips"]
    return trips, body["data"]


STATS_FLUSH_SECONDS = 11  # PostgreSQL publishes an idle backend's counts within 10 s


async def _server_counts(pg_dsn: str, redis_url: str) -> tuple[int, int]:
    """Transactions PostgreSQL has counted for the database, commands Redis processed."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        xacts = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    redis = Redis.from_url(redis_url)
    try:
        commands = (await redis.info("stats"))["total_commands_processed"]
    finally:
        await redis.aclose()
    return int(xacts), int(commands)


def server_round_trips(url: str, env: dict[str, str], requests: int = 50) -> dict[str, float]:
    """Postgres statements and Redis commands per request, counted by the servers over
    `requests` sequential requests (each read is one autocommit transaction). Measured
    against an idle interval of the same length, so the counting's own work cancels out;
    unlike `extensions.roundTrips`, this also sees what a response-cache hit does."""
    pg_dsn = asyncpg_dsn(env["HIREGRAPH_POSTGRES_URL"])
    redis_url = env["HIREGRAPH_REDIS_URL"]
    headers = {"authorization": f"Bearer {TOKEN}"}

    def delta(work: int) -> tuple[int, int]:
        before = asyncio.run(_server_counts(pg_dsn, redis_url))
        for _ in range(work):
            httpx.post(url, json={"query": QUERY}, headers=headers, timeout=30).raise_for_status()
        time.sleep(STATS_FLUSH_SECONDS)
        after = asyncio.run(_server_counts(pg_dsn, redis_url))
        return after[0] - before[0], after[1] - before[1]

    # Warm up first: entries may have expired during the rounds (a Job lives 60 s), and a
    # page read from the result cache fills the entity cache with its whole jobs once.
    for _ in range(2):
        httpx.post(url, json={"query": QUERY}, headers=headers, timeout=30).raise_for_status()
    time.sleep(STATS_FLUSH_SECONDS)  # let earlier load's counts be published first
    idle, busy = delta(0), delta(requests)
    return {
        "postgres": round((busy[0] - idle[0]) / requests, 2),
        "redis": round((busy[1] - idle[1]) / requests, 2),
    }


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, body_file: str, seconds: int, connections: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
           "-s", str(ROOT / "bench" / "post.lua"), url, "--", body_file, TOKEN]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        fail(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {
        p: float(v) * _UNITS[u] for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)
    }
    return {"rps": rps, "p50_ms": lat["50"], "p99_ms": lat["99"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--pg-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--duration", type=int, default=15, help="seconds per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"query": QUERY}, f)
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    trips: dict[str, dict[str, int]] = {}
    with ExitStack() as stack:
        env = stack.enter_context(stores(args))
        urls = {name: stack.enter_context(server(app, env)) for name, app in VARIANTS.items()}
        answers = {}
        for name, url in urls.items():
            trips[name], answers[name] = check(url)
            wrk(url, f.name, 3, args.connections)  # warm-up
        if len({orjson.dumps(a) for a in answers.values()}) != 1:
            fail("the variants' responses differ")
        for _ in range(args.rounds):
            for name, url in urls.items():
                results[name].append(wrk(url, f.name, args.duration, args.connections))
        counted = {name: server_round_trips(url, env) for name, url in urls.items()}
        detail = detail_round_trips(urls["entity cache"])
    report(results, trips, counted, args)
    print(f"job detail by id through the warm entity cache: {detail}")


def detail_round_trips(url: str) -> dict[str, int]:
    """A job-detail read by id (entities only), asked twice: the second one's round trips."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    board = httpx.post(url, json={"query": "{ jobs(first: 1) { edges { node { id } } } }"},
                       headers=headers, timeout=30).json()  # fmt: skip
    job_id = board["data"]["jobs"]["edges"][0]["node"]["id"]
    query = "query($id: ID!) { job(id: $id) { title location company { name industry } } }"
    for _ in range(2):
        body = httpx.post(url, json={"query": query, "variables": {"id": job_id}},
                          headers=headers, timeout=30).json()  # fmt: skip
    trips: dict[str, int] = body["extensions"]["roundTrips"]
    return trips


def report(
    results: dict[str, list[dict[str, float]]], trips: dict[str, Any],
    counted: dict[str, dict[str, float]], args: Any,
) -> None:  # fmt: skip
    print(f"\njob board (50 jobs), 1 worker each, wrk -c{args.connections}, "
          f"{args.rounds} x {args.duration}s rounds, alternating; median of rounds")  # fmt: skip
    print(f"{'variant':<15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  "
          "per request: cold round trips (gateway); warm, counted by the servers: "
          "Postgres transactions, Redis commands (incl. those inside Lua scripts)")  # fmt: skip
    summary = {}
    for name, rounds in results.items():
        med = {k: statistics.median(r[k] for r in rounds) for k in ("rps", "p50_ms", "p99_ms")}
        summary[name] = {**med, "rounds": rounds, "round_trips": trips[name],
                         "server_counted": counted[name]}  # fmt: skip
        print(f"{name:<15} {med['rps']:>8.1f} {med['p50_ms']:>8.1f} {med['p99_ms']:>8.1f}  "
              f"{trips[name]}, {counted[name]}")  # fmt: skip
    for other in ("interpreted", "naive N+1", "entity cache", "response cache"):
        ratio = summary[other]["rps"] / summary["hiregraph"]["rps"]
        print(f"ratio {other} / hiregraph (uncached): {ratio:.2f}x")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (out / f"job_board-{stamp}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
