"""Analytics benchmark: each aggregate uncached and cached (p50/p99 over HTTP), and the
EXPLAIN (ANALYZE, BUFFERS) of every SQL statement behind them.

Three gateways run over the same stores, one uvicorn worker each:
`bench.apps:hiregraph_app` twice, both caches off (every request computes the aggregate),
once with the board-wide rollup off (`live`) and once reading it (`rollup`, refreshed
first: its time and size are reported), side by side per case; and
`bench.apps:response_cache_app` (a repeated request is a response-cache hit). Requests
are sequential (latency, not throughput), signed in as ADMIN.

    uv run --extra embedded python bench/analytics.py [--scale medium] [--requests 30]

Unset --*-url options start embedded stores under --data-dir, migrated and seeded with
--scale on first use. The EXPLAIN output goes to bench/results/analytics-explain-<scale>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.job_board import TOKEN, fail, server, stores  # noqa: E402
from datasources.postgres.analytics import (  # noqa: E402
    FUNNEL_SQL,
    SKILL_SETTINGS,
    demand_statement,
    job_stats_statement,
    timeseries_statement,
)
from datasources.postgres.engine import asyncpg_dsn  # noqa: E402
from datasources.postgres.reader import compile_statement  # noqa: E402
from datasources.postgres.rollup import JobStatsRollup, Refreshed, rollup_statement  # noqa: E402
from datasources.seed.scale import ANCHOR  # noqa: E402
from domain.analytics import (  # noqa: E402
    Interval,
    JobGroup,
    JobStatsQuery,
    TimeseriesQuery,
)
from domain.queries import JobFilter  # noqa: E402
from domain.rollup import rollup_read  # noqa: E402

START = (ANCHOR - timedelta(days=183)).isoformat()
END = ANCHOR.isoformat()
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "jobStats COUNTRY": (
        "query($g: [JobStatsGroupBy!]!) { analytics { jobStats(groupBy: $g, first: 100) {"
        " country currency count salary { p50 p90 avg } } } }",
        {"g": ["COUNTRY"]},
    ),
    "jobStats SKILL x SENIORITY": (
        "query($g: [JobStatsGroupBy!]!) { analytics { jobStats(groupBy: $g, first: 100) {"
        " skill seniority currency count salary { min max p50 p90 } } } }",
        {"g": ["SKILL", "SENIORITY"]},
    ),
    "jobStats COMPANY, skillsAny": (
        "query($g: [JobStatsGroupBy!]!, $f: JobFilter) { analytics { jobStats(groupBy: $g,"
        " filter: $f, first: 50) { companyName currency count salary { p50 } } } }",
        {"g": ["COMPANY"], "f": {"skillsAny": ["rust", "kafka"]}},
    ),
    "jobStats INDUSTRY x POSTED_MONTH": (
        "query($g: [JobStatsGroupBy!]!) { analytics { jobStats(groupBy: $g, first: 200) {"
        " industry postedMonth currency count salary { p50 } } } }",
        {"g": ["INDUSTRY", "POSTED_MONTH"]},
    ),
    "postingsTimeseries DAY 183d": (
        "query($from: DateTime!, $to: DateTime!) { analytics { postingsTimeseries("
        "interval: DAY, from: $from, to: $to) { start count } } }",
        {"from": START, "to": END},
    ),
    "postingsTimeseries WEEK, country": (
        "query($from: DateTime!, $to: DateTime!) { analytics { postingsTimeseries("
        'interval: WEEK, from: $from, to: $to, filter: {countries: ["IN"]}) { start count } } }',
        {"from": START, "to": END},
    ),
    "applicationFunnel company": (
        "query($c: ID) { analytics { applicationFunnel(companyId: $c) { total"
        " stages { status count conversion medianDays p90Days } } } }",
        {"c": "Q29tcGFueTox"},  # Company:1
    ),
    "candidateStats SKILL": (
        "{ analytics { candidateStats(groupBy: [SKILL], first: 100) { skill count } } }",
        {},
    ),
    "candidateStats YEARS_BUCKET": (
        "{ analytics { candidateStats(groupBy: [YEARS_BUCKET]) { yearsBucket count } } }",
        {},
    ),
    "candidateStats COUNTRY x CITY": (
        "{ analytics { candidateStats(groupBy: [COUNTRY, CITY], first: 100) {"
        " country city count avgYearsExperience } } }",
        {},
    ),
    "skillsGap": (
        "{ analytics { skillsGap(first: 50) { skill demand supply ratio"
        " medianSalary { currency median } } } }",
        {},
    ),
}


_INDEX = re.compile(r"(?:Index(?: Only)? Scan using|Bitmap Index Scan on) (\S+)")


MONGO = ("candidateStats", "skillsGap")


def _ms(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0] * 1000, samples[0] * 1000
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def measure(url: str, query: str, variables: dict[str, Any], n: int) -> tuple[float, float]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    body = {"query": query, "variables": variables}
    samples = []
    with httpx.Client(timeout=900) as client:
        first = client.post(url, json=body, headers=headers).json()  # warm-up (fills the cache)
        if first.get("errors"):
            print(f"failed: {query[:60]}: {first['errors'][0]['extensions']}", file=sys.stderr)
            return float("nan"), float("nan")
        for _ in range(n):
            t = time.perf_counter()
            response = client.post(url, json=body, headers=headers)
            samples.append(time.perf_counter() - t)
            if response.status_code != 200:
                fail(response.text[:300])
    return _ms(samples)


def statements() -> dict[str, tuple[str, list[Any]]]:
    """The SQL behind the Postgres cases, compiled as the adapter sends it."""
    start, end = ANCHOR - timedelta(days=183), ANCHOR
    stats = {
        "jobStats COUNTRY": (JobGroup.COUNTRY,),
        "jobStats SKILL x SENIORITY": (JobGroup.SKILL, JobGroup.SENIORITY),
        "jobStats INDUSTRY x POSTED_MONTH": (JobGroup.INDUSTRY, JobGroup.POSTED_MONTH),
    }
    found = {k: compile_statement(job_stats_statement(JobStatsQuery(JobFilter(), g, first=100)))
             for k, g in stats.items()}  # fmt: skip
    rust = JobFilter(skills_any=("rust", "kafka"))
    found["jobStats COMPANY, skillsAny"] = compile_statement(
        job_stats_statement(JobStatsQuery(rust, (JobGroup.COMPANY,), first=50))
    )
    for name, interval, f in [
        ("postingsTimeseries DAY 183d", Interval.DAY, JobFilter()),
        ("postingsTimeseries WEEK, country", Interval.WEEK, JobFilter(countries=("IN",))),
    ]:
        found[name] = compile_statement(
            timeseries_statement(TimeseriesQuery(f, interval, start, end))
        )
    found["skillsGap (demand)"] = compile_statement(demand_statement(JobFilter()))
    for k, g in stats.items():
        q = JobStatsQuery(JobFilter(), g, first=100)
        read = rollup_read(q)
        assert read is not None
        found[f"rollup read: {k}"] = compile_statement(rollup_statement(q, read, 3600, first=100))
    found["applicationFunnel company"] = (FUNNEL_SQL, [None, 1, None, None, None])
    return found


async def explain(pg_url: str) -> tuple[dict[str, tuple[float, list[str]]], str]:
    """Execution time and the indexes named in each plan, and the full plans."""
    # JIT off, as on the gateway's read pool (datasources/postgres/reader.py).
    conn = await asyncpg.connect(asyncpg_dsn(pg_url), server_settings={"jit": "off"})
    summary: dict[str, tuple[float, list[str]]] = {}
    text = []
    try:
        for name, (sql, args) in statements().items():
            async with conn.transaction():  # as the adapter runs them
                if "job_skills" in sql:
                    await conn.execute(SKILL_SETTINGS)
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
            plan = [r[0] for r in rows]
            text += [f"== {name}", sql, *plan, ""]
            ms = next(float(p.split()[2]) for p in plan if p.startswith("Execution Time"))
            indexes = sorted({i for p in plan for i in _INDEX.findall(p)})
            summary[name] = (ms, indexes)
    finally:
        await conn.close()
    return summary, "\n".join(text)


async def refresh_rollup(pg_url: str) -> tuple[Refreshed, int]:
    """A refresh, timed, and the size of its snapshot's rows (bytes of row data)."""
    done = await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    if done is None:
        fail("another process holds the rollup's refresh lock")
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        size: int = await conn.fetchval(
            "SELECT sum(pg_column_size(r.*)) FROM job_stats_rollup r WHERE snapshot = $1",
            done.snapshot,
        )
    finally:
        await conn.close()
    return done, size


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--pg-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--requests", type=int, default=30, help="uncached requests per case")
    parser.add_argument("--cached-requests", type=int, default=300)
    parser.add_argument("--only", default="", help="regex: run the cases whose name matches")
    parser.add_argument(
        "--mongo-requests", type=int, default=3,
        help="uncached requests per case that reads MongoDB (SecantusDB scans at ~3k docs/s)",
    )  # fmt: skip
    args = parser.parse_args()
    # Entries of this run only (the Redis may be shared): a cold start for every case.
    os.environ["HIREGRAPH_CACHE__KEY_PREFIX"] = f"hg-bench-analytics-{time.time_ns()}"
    os.environ["HIREGRAPH_LIMITS__EXECUTION_TIMEOUT_SECONDS"] = "600"
    os.environ["HIREGRAPH_IDEMPOTENCY__LEASE_SECONDS"] = "700"
    os.environ["HIREGRAPH_POOLS__MONGO_SOCKET_TIMEOUT_MS"] = "600000"
    os.environ["HIREGRAPH_POOLS__POSTGRES_STATEMENT_TIMEOUT_MS"] = "600000"
    cases = {k: v for k, v in CASES.items() if re.search(args.only, k)}
    with stores(args) as env:
        # Twice: the first after a load may find cold pages; the EXPLAIN reads the second.
        refreshes = [asyncio.run(refresh_rollup(env["HIREGRAPH_POSTGRES_URL"])) for _ in range(2)]
        plans, full = asyncio.run(explain(env["HIREGRAPH_POSTGRES_URL"]))
        out = ROOT / "bench" / "results" / f"analytics-explain-{args.scale}.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(full)
        rows: dict[str, list[float]] = {}
        live_env = {**env, "HIREGRAPH_ANALYTICS__ROLLUP": "false"}
        rollup_env = {**env, "HIREGRAPH_ANALYTICS__ROLLUP_MAX_STALENESS_SECONDS": "3600"}
        with (
            server("bench.apps:hiregraph_app", live_env) as live,
            server("bench.apps:hiregraph_app", rollup_env) as rolled,
        ):
            for name, (query, variables) in cases.items():
                n = args.mongo_requests if name.startswith(MONGO) else args.requests
                rows[name] = [*measure(live, query, variables, n)]
                rows[name] += measure(rolled, query, variables, n)
        with server("bench.apps:response_cache_app", env) as url:
            for name, (query, variables) in cases.items():
                rows[name] += measure(url, query, variables, args.cached_requests)
    print(f"\nscale {args.scale}: ms over HTTP, one gateway worker, sequential requests")
    print("| aggregate | live p50 | live p99 | rollup p50 | rollup p99 | cached p50 | cached p99 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (u50, u99, r50, r99, c50, c99) in rows.items():
        print(f"| {name} | {u50:.1f} | {u99:.1f} | {r50:.1f} | {r99:.1f} | {c50:.2f} | {c99:.2f} |")
    for done, size in refreshes:
        print(f"\nrollup refresh: {done.seconds:.2f} s, {done.rows} rows, "
              f"{size / 2**20:.1f} MiB of row data")  # fmt: skip
    print("\n| SQL | EXPLAIN ANALYZE execution ms | indexes in the plan |")
    print("| --- | ---: | --- |")
    for name, (ms, indexes) in plans.items():
        print(f"| {name} | {ms:.1f} | {', '.join(indexes) or '(sequential scan)'} |")


if __name__ == "__main__":
    main()
