"""Store faults against a real gateway process: timeouts, breakers, partial results.

Each test starts `hiregraph serve` with one store reached through the fault proxy
(tests/faults/proxy.py) and checks what issue 9 promises: a failing store nulls the
smallest field it owns, with `extensions.code` UPSTREAM_* and `extensions.store`,
and everything else in the response is intact; latency stays bounded by the store's
timeout; a breaker opens after N failures (no connection reaches the proxy while it
is open) and closes once the store is back; a busy pool answers UPSTREAM_BUSY; reads
are retried after connection failures and mutations never are. Latencies are printed
under `[fault-latency]` (pytest -s); README "Failure behaviour" quotes them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from datasources.postgres.engine import asyncpg_dsn
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded, running_gateway
from tests.e2e.test_faults_lifecycle import (
    ADMIN,
    BOARD,
    NO_CACHE,
    gateway_env,
    postgres_behind_proxy,
)
from tests.e2e.test_faults_lifecycle import _direct as direct_url
from tests.faults.load import LoadResult, malformed, run_load
from tests.faults.proxy import ProxyThread, upstream_of

pytestmark = pytest.mark.e2e

UPSTREAM = {"UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "UPSTREAM_BUSY"}
APPLICANTS = """query($id: ID!) { job(id: $id) { id title company { name }
    applications(first: 10) { edges { node { id status candidate { name } } } } } }"""
CANDIDATE = """query($id: ID!) { candidate(id: $id) { id name headline
    applications(first: 5) { totalCount edges { node { id status } } } } }"""
CREATE_COMPANY = """mutation($input: CreateCompanyInput!) { createCompany(input: $input) {
    __typename ... on CompanyPayload { company { id } } } }"""


async def _ids(seeded: Seeded) -> tuple[str, str]:
    """A job with applications and a candidate who applied, as global ids."""
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        row = await conn.fetchrow(
            "SELECT job_id, candidate_id FROM applications ORDER BY id LIMIT 1"
        )
    finally:
        await conn.close()
    assert row is not None
    return to_global_id("Job", row["job_id"]), to_global_id("Candidate", row["candidate_id"])


async def _post(
    http: httpx.AsyncClient, query: str, **variables: Any
) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=ADMIN
    )
    elapsed = time.perf_counter() - started
    assert malformed(response) is None, malformed(response)
    body: dict[str, Any] = response.json()
    return body, elapsed


def _upstream_errors(body: dict[str, Any], store: str) -> list[dict[str, Any]]:
    errors = body.get("errors") or []
    assert errors, body
    for error in errors:
        assert error["extensions"]["code"] in UPSTREAM, error
        assert error["extensions"]["store"] == store, error
    return list(errors)


def _only_upstream(result: LoadResult, what: str) -> None:
    assert result.malformed == [], f"{what}: {result.malformed[:3]}"
    assert result.server_errors == 0, f"{what}: {result.statuses}"
    assert set(result.error_codes) <= UPSTREAM, f"{what}: {result.error_codes}"


async def _metric(http: httpx.AsyncClient, name: str, store: str) -> float:
    text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f'{name}{{store="{store}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} for {store} not in /metrics")


# -- MongoDB blackholed: partial results, bounded latency, the job board untouched ----


async def test_mongo_blackholed_nulls_candidates_only_within_the_timeout(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    job, _ = await _ids(seeded)
    with ProxyThread(*upstream_of(seeded.mongo_url)) as proxy:
        env = gateway_env(
            seeded,
            HIREGRAPH_MONGO_URL=direct_url(proxy.url(seeded.mongo_url)),
            HIREGRAPH_RESILIENCE__MONGO__TIMEOUT_SECONDS="1",
            # The driver's monitor finds the server again within a second of its return.
            HIREGRAPH_POOLS__MONGO_CONNECT_TIMEOUT_MS="1000",
            HIREGRAPH_READINESS_TIMEOUT="0.5",
            **NO_CACHE,
        )
        with running_gateway(env, tmp_path) as base:
            http = clients(base)
            healthy, _ = await _post(http, APPLICANTS, id=job)
            assert "errors" not in healthy, healthy
            names = [e["node"]["candidate"]["name"] for e in
                     healthy["data"]["job"]["applications"]["edges"]]  # fmt: skip
            assert names
            assert all(names)

            applicants = {"query": APPLICANTS, "variables": {"id": job}}
            baseline = await run_load(http, applicants, requests=200, concurrency=20, headers=ADMIN)
            print("\n" + baseline.summary("job applicants, healthy"))
            # Healthy, though on a busy machine a read may exceed the 1 s timeout.
            assert baseline.malformed == []
            assert baseline.with_errors <= baseline.count // 20, baseline.error_codes

            proxy.set_blackhole(True)
            proxy.reset_existing()  # pooled connections die; new ones vanish in the hole
            body, elapsed = await _post(http, APPLICANTS, id=job)
            print(f"[fault-latency] job applicants, mongo blackholed: {elapsed * 1000:.0f} ms")
            # The 1 s store timeout (+ the 0.25 s backstop; measured 1.27-1.44 s), not the
            # driver's 5-10 s; the margin is for a CI machine running other suites.
            assert elapsed < 2.5, elapsed
            errors = _upstream_errors(body, "mongo")
            data = body["data"]["job"]
            assert data["title"]
            assert data["company"]["name"]  # Postgres fields intact
            edges = data["applications"]["edges"]
            assert len(edges) == len(names)
            assert all(e["node"]["candidate"] is None and e["node"]["status"] for e in edges)
            paths = {tuple(e["path"]) for e in errors}
            assert ("job", "applications", "edges", 0, "node", "candidate") in paths

            board = await run_load(http, BOARD, requests=300, concurrency=30)
            print(board.summary("job board, mongo blackholed"))
            assert board.malformed == []
            assert board.server_errors == 0
            assert board.with_errors == 0, board.error_codes  # the board never needs Mongo

            fault = await run_load(http, applicants, requests=200, concurrency=20, headers=ADMIN)
            print(fault.summary("job applicants, mongo blackholed"))
            _only_upstream(fault, "applicants with Mongo blackholed")
            assert fault.with_errors == fault.count
            # Bounded: at most one store timeout (1 s) above the healthy run; the breaker
            # makes most requests fail fast, so they are usually quicker than healthy.
            assert fault.percentile(50) < baseline.percentile(50) + 1000

            # One gateway process on a shared 2-core machine: at 60 in flight it is CPU
            # bound, and the question is only whether every answer stays well-formed.
            many = await run_load(http, applicants, requests=300, concurrency=60, headers=ADMIN)
            print(many.summary("job applicants x60 concurrent, mongo blackholed"))
            _only_upstream(many, "60 concurrent applicants with Mongo blackholed")
            assert many.with_errors == many.count

            ready = await http.get("/readyz")
            assert (ready.status_code, ready.json()["status"]) == (200, "degraded"), ready.text
            assert ready.json()["degraded"] == ["mongo"]

            proxy.clear()
            cleared = time.monotonic()
            while "errors" in (body := (await _post(http, APPLICANTS, id=job))[0]):
                assert time.monotonic() - cleared < 30, f"Mongo not back within 30 s: {body}"
                await asyncio.sleep(0.3)
            print(f"[fault-latency] mongo back: answered {time.monotonic() - cleared:.1f} s "
                  "after the blackhole ended")  # fmt: skip
            assert body == healthy


# -- MongoDB slow: the field times out, the request does not ---------------------------


async def test_mongo_two_seconds_slow_times_out_the_field_in_under_a_second(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    job, candidate = await _ids(seeded)
    with ProxyThread(*upstream_of(seeded.mongo_url)) as proxy:
        env = gateway_env(
            seeded,
            HIREGRAPH_MONGO_URL=direct_url(proxy.url(seeded.mongo_url)),
            HIREGRAPH_RESILIENCE__MONGO__TIMEOUT_SECONDS="0.5",
            **NO_CACHE,
        )
        with running_gateway(env, tmp_path) as base:
            http = clients(base)
            warm, _ = await _post(http, APPLICANTS, id=job)
            assert "errors" not in warm, warm
            proxy.set_latency(2000)
            timings = []
            for _ in range(5):
                body, elapsed = await _post(http, APPLICANTS, id=job)
                timings.append(elapsed)
                errors = _upstream_errors(body, "mongo")
                assert {e["extensions"]["code"] for e in errors} <= {
                    "UPSTREAM_TIMEOUT", "UPSTREAM_UNAVAILABLE"}  # fmt: skip
                assert body["data"]["job"]["title"]
                assert body["data"]["job"]["applications"]["edges"][0]["node"]["candidate"] is None
            print(f"\n[fault-latency] job applicants, mongo +2 s, 0.5 s timeout: "
                  f"{', '.join(f'{t * 1000:.0f}' for t in timings)} ms")  # fmt: skip
            assert max(timings) < 1.0
            body, elapsed = await _post(http, CANDIDATE, id=candidate)
            (error,) = _upstream_errors(body, "mongo")
            assert (error["path"], body["data"]) == (["candidate"], {"candidate": None})
            assert elapsed < 1.0


# -- PostgreSQL: breaker, down, busy, retries ----------------------------------------


async def test_postgres_breaker_opens_after_n_failures_and_closes_after_recovery(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    with postgres_behind_proxy(
        seeded,
        tmp_path,
        HIREGRAPH_RESILIENCE__POSTGRES__BREAKER_FAILURE_THRESHOLD="3",
        HIREGRAPH_RESILIENCE__POSTGRES__BREAKER_RESET_SECONDS="2",
        HIREGRAPH_RESILIENCE__POSTGRES__RETRY_ATTEMPTS="0",
    ) as (proxy, base):
        http = clients(base)
        ok, _ = await _post(http, BOARD["query"])
        assert "errors" not in ok, ok
        assert await _metric(http, "hiregraph_circuit_breaker_state", "postgres") == 0

        proxy.set_reset(True)  # every connection, open or new, is reset
        for _ in range(3):
            _upstream_errors((await _post(http, BOARD["query"]))[0], "postgres")
        assert await _metric(http, "hiregraph_circuit_breaker_state", "postgres") == 2
        before = proxy.stats.accepted_total
        timings = []
        for _ in range(20):
            body, elapsed = await _post(http, BOARD["query"])
            timings.append(elapsed)
            (error,) = _upstream_errors(body, "postgres")
            assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
            assert "circuit breaker open" in error["message"]
        assert proxy.stats.accepted_total == before  # open: nothing reached the proxy
        print(f"\n[fault-latency] job board, postgres breaker open: "
              f"max {max(timings) * 1000:.1f} ms over 20")  # fmt: skip
        assert await _metric(http, "hiregraph_circuit_breaker_rejected_total", "postgres") >= 20

        proxy.clear()
        await asyncio.sleep(2.1)  # the reset time: the next call is the probe
        body, _ = await _post(http, BOARD["query"])
        assert "errors" not in body, body
        assert proxy.stats.accepted_total > before
        assert await _metric(http, "hiregraph_circuit_breaker_state", "postgres") == 0
        assert await _metric(http, "hiregraph_circuit_breaker_opened_total", "postgres") == 1


async def test_postgres_down_candidate_by_id_still_answers(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    _, candidate = await _ids(seeded)
    with postgres_behind_proxy(seeded, tmp_path, HIREGRAPH_READINESS_TIMEOUT="0.5") as (
        proxy,
        base,
    ):
        http = clients(base)
        healthy, _ = await _post(http, CANDIDATE, id=candidate)
        assert "errors" not in healthy, healthy
        assert healthy["data"]["candidate"]["applications"]["totalCount"] >= 1

        proxy.set_down(True)
        body, elapsed = await _post(http, CANDIDATE, id=candidate)
        print(f"\n[fault-latency] candidate(id), postgres down: {elapsed * 1000:.0f} ms")
        (error,) = _upstream_errors(body, "postgres")
        assert error["path"] == ["candidate", "applications"]
        got = body["data"]["candidate"]
        assert got["id"] == candidate
        assert got["name"] == healthy["data"]["candidate"]["name"]
        assert got["applications"] is None

        board = await run_load(http, BOARD, requests=300, concurrency=30)
        print(board.summary("job board, postgres down"))
        _only_upstream(board, "job board with Postgres down")
        assert board.with_errors == board.count

        ready = await http.get("/readyz")
        assert ready.status_code == 503, ready.text  # Postgres is the required store
        assert ready.json()["degraded"] == ["postgres"]

        proxy.set_down(False)
        deadline = time.monotonic() + 20
        while "errors" in (body := (await _post(http, CANDIDATE, id=candidate))[0]):
            assert time.monotonic() < deadline, f"Postgres not back within 20 s: {body}"
            await asyncio.sleep(0.3)
        assert body == healthy


async def test_an_exhausted_postgres_pool_answers_upstream_busy(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    with postgres_behind_proxy(
        seeded,
        tmp_path,
        HIREGRAPH_POOLS__POSTGRES_POOL_SIZE="1",
        HIREGRAPH_POOLS__POSTGRES_POOL_TIMEOUT="0.2",
    ) as (proxy, base):
        http = clients(base)
        ok, _ = await _post(http, BOARD["query"])  # the pool's one connection, open
        assert "errors" not in ok, ok
        proxy.set_latency(1000, direction="downstream")  # each answer takes 1 s
        result = await run_load(http, BOARD, requests=20, concurrency=20, headers=ADMIN)
        print("\n" + result.summary("job board, postgres pool of 1 held 1 s"))
        assert result.malformed == []
        assert result.server_errors == 0
        assert result.error_codes["UPSTREAM_BUSY"] >= 10, result.error_codes
        assert set(result.error_codes) <= {"UPSTREAM_BUSY"}, result.error_codes
        busy = sorted(result.latencies)[: result.error_codes["UPSTREAM_BUSY"]]
        assert max(busy) < 1.0  # refused after the pool wait, not queued behind 1 s reads


async def test_reads_are_retried_after_a_reset_and_mutations_are_not(
    seeded: Seeded, tmp_path: Path, clients: Any
) -> None:
    with postgres_behind_proxy(
        seeded,
        tmp_path,
        HIREGRAPH_RESILIENCE__POSTGRES__RETRY_ATTEMPTS="2",
        HIREGRAPH_RESILIENCE__POSTGRES__BREAKER_FAILURE_THRESHOLD="100",
    ) as (proxy, base):
        http = clients(base)
        proxy.set_reset(True)
        before = proxy.stats.accepted_total
        body, _ = await _post(http, BOARD["query"])
        _upstream_errors(body, "postgres")
        read_connections = proxy.stats.accepted_total - before
        assert await _metric(http, "hiregraph_store_read_retries_total", "postgres") == 2
        assert read_connections == 3  # the first attempt and two retries

        before = proxy.stats.accepted_total
        given = {"slug": f"faults-{time.time_ns()}", "name": "Faults", "industry": "Retail"}
        body, _ = await _post(http, CREATE_COMPANY, input=given)
        (error,) = _upstream_errors(body, "postgres")
        assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert proxy.stats.accepted_total - before == 1  # one attempt, never again
        assert await _metric(http, "hiregraph_store_read_retries_total", "postgres") == 2

        proxy.clear()
        body, _ = await _post(http, CREATE_COMPANY, input=given)
        assert body["data"]["createCompany"]["__typename"] == "CompanyPayload", body
