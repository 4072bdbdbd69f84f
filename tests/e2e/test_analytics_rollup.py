"""The board-wide jobStats rollup end to end: `hiregraph worker` builds it and refreshes
it after a job is posted through a gateway; the gateway (`hiregraph serve`) answers a
covered request from it while it is fresh enough (counted on /metrics), computes it
live while it is not, and the answers agree with the live statement's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from datasources.postgres.engine import asyncpg_dsn
from domain.viewer import Role, Viewer
from tests.e2e.conftest import Seeded, shared_env, start_gateway, start_worker, stop_gateway
from tests.e2e.test_authz import SECRET, token_for
from tests.e2e.test_subscriptions import Writes

pytestmark = pytest.mark.e2e
ANALYST = Viewer(Role.ANALYST, user_id="rollup-analyst")
STATS = """{ analytics { jobStats(groupBy: [COUNTRY], orderBy: KEY_ASC, first: 1000) {
  country currency count salary { count min max avg p50 p90 } } } }"""


@dataclass(frozen=True)
class Stack:
    strict: str  # a gateway reading the rollup only while nothing changed since
    tolerant: str  # one reading it while stale by up to an hour
    db: str


@pytest.fixture(scope="module")
def stack(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = shared_env(
        seeded, "rollup", SECRET,
        HIREGRAPH_ANALYTICS__ROLLUP_MIN_INTERVAL_SECONDS="0.5",
        HIREGRAPH_ANALYTICS__ROLLUP_POLL_SECONDS="0.5",
    )  # fmt: skip
    strict, strict_url = start_gateway(
        {**env, "HIREGRAPH_ANALYTICS__ROLLUP_MAX_STALENESS_SECONDS": "0"},
        tmp_path_factory.mktemp("gw-strict"),
    )
    tolerant, tolerant_url = start_gateway(
        {**env, "HIREGRAPH_ANALYTICS__ROLLUP_MAX_STALENESS_SECONDS": "3600"},
        tmp_path_factory.mktemp("gw-tolerant"),
    )
    worker = start_worker(env, tmp_path_factory.mktemp("worker"))
    try:
        yield Stack(strict_url, tolerant_url, asyncpg_dsn(seeded.postgres_url))
    finally:
        for proc in (worker, tolerant, strict):
            stop_gateway(proc)


async def _rollup_current(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT snapshot, least(pending_since, dirty_since) AS stale"
            " FROM analytics_rollups WHERE name = 'job_stats'"
        )
    finally:
        await conn.close()
    return row["snapshot"] is not None and row["stale"] is None


async def _until_current(dsn: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await _rollup_current(dsn):
        assert time.monotonic() < deadline, "the worker did not refresh the rollup"
        await asyncio.sleep(0.2)


async def _stats(base: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        headers = {"authorization": f"Bearer {token_for(ANALYST)}"}
        response = await http.post("/graphql", json={"query": STATS}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    rows: list[dict[str, Any]] = body["data"]["analytics"]["jobStats"]
    return rows


async def _rollup_reads(base: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        text = (await http.get("/metrics")).text
    return {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "hiregraph_analytics_rollup_reads_total"
    }


def _without_avg(rows: list[dict[str, Any]]) -> list[Any]:
    """The buckets, avg rounded: a float sum may add a group's rows in another order."""
    return [
        {**r, "salary": {**r["salary"], "avg": r["salary"]["avg"] and round(r["salary"]["avg"], 6)}}
        for r in rows
    ]


@pytest.fixture
async def writes(stack: Stack, seeded: Seeded) -> AsyncIterator[Writes]:
    async with Writes.through(stack.strict, seeded) as w:
        yield w


async def test_the_worker_refreshes_it_and_gateways_read_it(stack: Stack, writes: Writes) -> None:
    await _until_current(stack.db)
    before = await _stats(stack.strict)
    assert (await _rollup_reads(stack.strict)).get("rollup", 0) >= 1  # answered from it

    await writes.job(await writes.company(), publish=True, country="is")  # a new country
    live = await _stats(stack.strict)  # stale at all: computed live, the job counted
    assert ("IS", 1) in {(b["country"], b["count"]) for b in live}
    assert (await _rollup_reads(stack.strict)).get("stale", 0) >= 1
    # the tolerant gateway may answer from the snapshot taken before the job, if the
    # worker has not refreshed yet; it never answers with anything else
    assert _without_avg(await _stats(stack.tolerant)) in (_without_avg(before), _without_avg(live))

    await _until_current(stack.db)  # the worker refreshed after the change
    reads = (await _rollup_reads(stack.strict)).get("rollup", 0)
    assert _without_avg(await _stats(stack.strict)) == _without_avg(live)
    assert (await _rollup_reads(stack.strict))["rollup"] == reads + 1
    assert _without_avg(await _stats(stack.tolerant)) == _without_avg(live)
