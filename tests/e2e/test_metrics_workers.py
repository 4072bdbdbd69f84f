"""/metrics under `hiregraph serve --workers 2`: counters sum across the workers
(prometheus multiprocess mode, PROMETHEUS_MULTIPROC_DIR under the data dir)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Seeded, start_gateway, stop_gateway

pytestmark = pytest.mark.e2e
QUERY = "query WorkerCount { jobs(first: 1) { edges { node { id } } } }"


def requests_per_worker(directory: Path) -> Counter[int]:
    """This test's operation, counted in each worker's own counter file."""
    counts: Counter[int] = Counter()
    for path in directory.glob("counter_*.db"):
        pid = int(re.fullmatch(r"counter_(\d+)\.db", path.name).group(1))  # type: ignore[union-attr]
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if '"hiregraph_http_requests"' in key and '"WorkerCount"' in key:
                counts[pid] += int(value)
    return counts


async def test_counters_sum_across_workers(seeded: Seeded, tmp_path: Path) -> None:
    env = seeded.env(HIREGRAPH_RESPONSE_CACHE__ENABLED="false")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    stale = tmp_path / "prometheus"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"stale")  # a previous run's file is removed
    proc, base = start_gateway(env, tmp_path, "--workers", "2")
    try:
        assert not (stale / "counter_1.db").exists()
        sent = 0
        # The kernel places each new connection on either worker: send until both have
        # answered some (a fresh client per request, so a fresh connection). `/healthz`
        # answered once the first worker was up; the second may still be starting.
        until = time.monotonic() + 90
        while (time.monotonic() < until and len(requests_per_worker(stale)) < 2) or sent < 10:
            async with httpx.AsyncClient(base_url=base, timeout=10) as fresh:
                response = await fresh.post("/graphql", json={"query": QUERY})
            assert response.status_code == 200, response.text
            sent += 1
        # A worker records a request just after sending its response: let the last land.
        deadline = time.monotonic() + 10
        while sum(requests_per_worker(stale).values()) < sent and time.monotonic() < deadline:  # noqa: ASYNC110 - a file
            await asyncio.sleep(0.05)
        per_worker = requests_per_worker(stale)
        assert len(per_worker) == 2, (sent, per_worker)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            scraped = (await client.get("/metrics")).text
    finally:
        stop_gateway(proc)
    total = 0.0
    for family in text_string_to_metric_families(scraped):
        for sample in family.samples:
            if sample.name == "hiregraph_http_requests_total" and (
                sample.labels.get("operation") == "WorkerCount"
            ):
                assert sample.labels["outcome"] == "ok"
                total += sample.value
    assert total == sent == sum(per_worker.values())


async def test_a_dead_workers_live_gauges_are_dropped(seeded: Seeded, tmp_path: Path) -> None:
    """uvicorn's supervisor replaces a worker that died; its `live*` gauge files (pool
    usage, WebSockets, breaker state) go with it, its counters stay in the sums."""
    env = seeded.env(HIREGRAPH_RESPONSE_CACHE__ENABLED="false")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    directory = tmp_path / "prometheus"
    proc, base = start_gateway(env, tmp_path, "--workers", "2")

    def live_gauge_pids() -> set[int]:
        return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("gauge_live*_*.db")}

    try:
        sent = 0
        until = time.monotonic() + 90  # until both workers have answered (see above)
        while (time.monotonic() < until and len(requests_per_worker(directory)) < 2) or sent < 10:
            async with httpx.AsyncClient(base_url=base, timeout=10) as fresh:
                await fresh.post("/graphql", json={"query": QUERY})
            sent += 1
        workers = set(requests_per_worker(directory))
        deadline = time.monotonic() + 20  # each worker samples its pools every 5 s
        while not workers <= live_gauge_pids():
            assert time.monotonic() < deadline, (workers, live_gauge_pids())
            await asyncio.sleep(0.2)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in live_gauge_pids():
            assert time.monotonic() < deadline, "the dead worker's live gauges stayed"
            await asyncio.sleep(0.2)
        assert victim in requests_per_worker(directory)  # its counts still add up
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            assert (await client.post("/graphql", json={"query": QUERY})).status_code == 200
    finally:
        stop_gateway(proc)
