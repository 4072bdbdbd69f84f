"""`hiregraph serve --workers 2`: both worker processes answer queries; and subscriptions:
each uvicorn worker process reads
every event from the broker on its own, so a mutation handled by either worker reaches
subscribers on both (connections are placed on workers by the kernel's accept; the test
finds each connection's worker from the socket's owner, `ss -tnp`)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import websockets

from datasources.postgres.engine import asyncpg_dsn
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded, shared_env, start_gateway, start_worker, stop_gateway
from tests.e2e.real_writes import UPDATE_JOB
from tests.e2e.test_authz import SECRET
from tests.e2e.test_subscriptions import UPDATED, Client, Writes, connect

pytestmark = pytest.mark.e2e
DETAIL = "query($id: ID!) { job(id: $id) { id title } }"


@dataclass(frozen=True)
class Served:
    base: str
    port: int


@pytest.fixture(scope="module")
def served(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = shared_env(seeded, "subsw", SECRET)
    gateway, base = start_gateway(env, tmp_path_factory.mktemp("gw-workers"), "--workers", "2")
    relay = start_worker(env, tmp_path_factory.mktemp("relay"), "--no-consumers")
    try:
        served = Served(base, int(base.rsplit(":", 1)[1]))
        # `/healthz` answers once the first worker is up; on a loaded machine the second
        # may still be importing, and until then the kernel gives it no connection
        asyncio.run(_until_both_workers_answer(served.port))
        yield served
    finally:
        for proc in (relay, gateway):
            stop_gateway(proc)


async def _until_both_workers_answer(port: int, within: float = 90) -> None:
    deadline = time.monotonic() + within
    pids: set[int] = set()
    while len(pids) < 2:
        assert time.monotonic() < deadline, f"only worker(s) {pids} answered in {within} s"
        pid, _ = await _ask_on_own_connection(port, _get("/healthz"))
        pids.add(pid)
        await asyncio.sleep(0.05)


def server_pids(port: int) -> dict[int, int]:
    """Client port -> pid of the gateway process holding the accepted socket."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.findall(rf":{port}\s+\S+:(\d+)\s+users:\(\(\"[^\"]*\",pid=(\d+)", out)
    return {int(client): int(pid) for client, pid in found}


@pytest.fixture
async def writes(served: Served, seeded: Seeded) -> AsyncIterator[Writes]:
    async with Writes.through(served.base, seeded) as w:
        yield w


async def test_an_event_reaches_subscribers_on_both_workers(served: Served, writes: Writes) -> None:
    job = await writes.job(await writes.company(), publish=True)
    async with AsyncExitStack() as stack:
        clients: dict[int, Client] = {}  # worker pid -> a subscriber on it
        deadline = time.monotonic() + 60  # the kernel spreads accepts over both workers
        while len(clients) < 2 and time.monotonic() < deadline:
            conn = connect(served.base)
            client = await conn.__aenter__()
            pid = server_pids(served.port)[client.ws.local_address[1]]
            if pid in clients:  # that worker has one: close it (stays under the viewer limit)
                await conn.__aexit__(None, None, None)
                continue
            stack.push_async_exit(conn)
            clients[pid] = client
            await client.subscribe("1", UPDATED, id=job)
        assert len(clients) == 2, f"every connection landed on one worker: {set(clients)}"
        await asyncio.sleep(0.7)  # subscriptions registered with each worker's hub
        for title in ("Seen by both", "Seen by both again"):  # HTTP on either worker
            await writes.mutate(UPDATE_JOB, input={"id": job, "title": title})
            got = [await c.payload() for c in clients.values()]
            assert [p["data"]["jobUpdated"]["title"] for p in got] == [title, title]
            assert got[0]["extensions"]["eventId"] == got[1]["extensions"]["eventId"]


def _get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n" % path.encode()


def _job_detail(job: str) -> bytes:
    body = json.dumps({"query": DETAIL, "variables": {"id": job}}).encode()
    return (
        b"POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )


async def _ask_on_own_connection(port: int, request: bytes) -> tuple[int, dict[str, Any]]:
    """One HTTP request on a fresh TCP connection: (the pid of the worker that accepted
    it, the JSON response body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        pid = server_pids(port)[writer.get_extra_info("sockname")[1]]
        writer.write(request)
        response = await asyncio.wait_for(reader.read(), 20)
    finally:
        writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response
    return pid, json.loads(payload)


async def test_serve_with_two_workers_answers_from_both(served: Served, seeded: Seeded) -> None:
    """`hiregraph serve --workers 2`: the kernel spreads accepted connections over the
    worker processes; both answer queries, with the same data."""
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        job_id, title = await db.fetchrow(
            "SELECT id, title FROM jobs WHERE status = 'open' ORDER BY id LIMIT 1"
        )
        answers: dict[int, dict[str, Any]] = {}
        detail = _job_detail(to_global_id("Job", job_id))
        deadline = time.monotonic() + 60
        while len(answers) < 2 and time.monotonic() < deadline:
            pid, body = await _ask_on_own_connection(served.port, detail)
            answers[pid] = body
        assert len(answers) == 2, f"every connection landed on one worker: {set(answers)}"
        for body in answers.values():
            assert body["data"]["job"]["title"] == title
    finally:
        await db.close()


async def test_stopping_the_workers_completes_subscriptions_with_1001(
    seeded: Seeded, tmp_path: Path
) -> None:
    env = seeded.env(HIREGRAPH_AUTH__JWT_SECRET=SECRET)
    gateway, base = start_gateway(env, tmp_path, "--workers", "2")
    try:
        async with connect(base) as client:
            await client.subscribe("1", UPDATED, id="Sm9iOjE=")
            await asyncio.sleep(0.5)
            gateway.terminate()  # the supervisor passes SIGTERM to both workers
            assert (await client.next()) == {"id": "1", "type": "complete"}
            with pytest.raises(websockets.ConnectionClosedOK) as closed:
                await client.next()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1001
    finally:
        assert stop_gateway(gateway) == 0
