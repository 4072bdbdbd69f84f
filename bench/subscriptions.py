"""Subscriptions: N WebSocket subscribers on one gateway worker, event latency and memory.

One `hiregraph serve` worker (uvicorn, one process) and a `hiregraph worker --no-consumers`
(the outbox relay to Redis Streams) run over the benchmark's stores. N clients, each on its
own graphql-transport-ws connection (one asyncio process, connected in batches), subscribe
to `jobUpdated(id:)` for one of a few jobs. Then M `updateJob` mutations go through HTTP
as ADMIN, one every --interval seconds. For each, the latency is from the mutation's HTTP
response (the commit) to each subscriber of that job reading the event off its socket.
Also reported: the gateway worker's RSS (VmRSS) per open subscribed connection.

    uv run --frozen --extra embedded python bench/subscriptions.py [--subscribers 1000]

Every client signs in as the same ADMIN (HS256, the bench secret of job_board.py), so the
per-viewer connection limit is raised to N + 10 for the gateway. RLIMIT_NOFILE is raised
to its hard limit in this process before the servers start, so the gateway inherits it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.job_board import AUTH_ENV, TOKEN, fail, stores  # noqa: E402
from gateway.embedded import free_port  # noqa: E402

SUBSCRIPTION = "subscription($id: ID!) { jobUpdated(id: $id) { id title company { name } } }"
UPDATE = """mutation($input: UpdateJobInput!) { updateJob(input: $input) { __typename
  ... on JobPayload { job { id title } } } }"""
HEADERS = {"authorization": f"Bearer {TOKEN}"}


def raise_nofile(needed: int) -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (each connection is one fd on each side)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < needed:
        fail(f"RLIMIT_NOFILE hard limit {hard} < {needed} needed; raise it (ulimit -Hn)")
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    fail(f"no VmRSS for {pid}")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"gateway exited:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    fail("gateway did not start")


@dataclass
class Subscriber:
    job: str
    ws: Any = None
    acked: bool = False
    received: dict[str, float] = field(default_factory=dict)  # title -> perf_counter
    errors: list[str] = field(default_factory=list)


async def open_subscriber(url: str, sub: Subscriber) -> None:
    try:
        ws = await websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers=HEADERS,
            open_timeout=60,
            ping_interval=None,  # the server pings (graphql-transport-ws) on its own
            max_queue=None,
        )
        await ws.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if ack.get("type") != "connection_ack":
            sub.errors.append(str(ack))
            await ws.close()
            return
        sub.ws, sub.acked = ws, True
        payload = {"query": SUBSCRIPTION, "variables": {"id": sub.job}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    except Exception as exc:  # counted as not held, and reported
        sub.errors.append(repr(exc))


async def read(sub: Subscriber) -> None:
    """Stamp each event on arrival (before parsing); answer pings; stop when closed."""
    try:
        async for raw in sub.ws:
            now = time.perf_counter()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "next" and not message["payload"].get("errors"):
                sub.received[message["payload"]["data"]["jobUpdated"]["title"]] = now
            elif kind == "ping":
                await sub.ws.send('{"type":"pong"}')
            elif kind != "pong":
                sub.errors.append(str(message)[:200])
    except websockets.exceptions.ConnectionClosed as closed:
        sub.errors.append(f"closed {closed.rcvd}")


async def mutate(http: httpx.AsyncClient, job: str, title: str) -> float:
    body = {"query": UPDATE, "variables": {"input": {"id": job, "title": title}}}
    response = await http.post("/graphql", json=body, headers=HEADERS)
    done = time.perf_counter()
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        fail(f"updateJob failed: {response.text[:300]}")
    if payload["data"]["updateJob"]["__typename"] != "JobPayload":
        fail(f"updateJob refused: {response.text[:300]}")
    return done


async def pick_jobs(http: httpx.AsyncClient, count: int) -> dict[str, str]:
    query = "query($n: Int!) { jobs(first: $n) { edges { node { id title } } } }"
    response = await http.post(
        "/graphql", json={"query": query, "variables": {"n": count}}, headers=HEADERS
    )
    edges = response.json()["data"]["jobs"]["edges"]
    return {e["node"]["id"]: e["node"]["title"] for e in edges}


async def run(args: argparse.Namespace, base: str, pid: int) -> dict[str, Any]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        originals = await pick_jobs(http, args.jobs)
        jobs = list(originals)
        tag = uuid.uuid4().hex[:6]
        await mutate(http, jobs[0], originals[jobs[0]])  # warm the mutation path
        await asyncio.sleep(1.0)
        before = rss_kib(pid)
        subs = [Subscriber(jobs[i % len(jobs)]) for i in range(args.subscribers)]
        started = time.perf_counter()
        for i in range(0, len(subs), args.batch):
            await asyncio.gather(*(open_subscriber(url, s) for s in subs[i : i + args.batch]))
        connect_seconds = time.perf_counter() - started
        held = [s for s in subs if s.acked]
        readers = [asyncio.create_task(read(s)) for s in held]
        await asyncio.sleep(args.settle)  # subscriptions registered with the fan-out
        after = rss_kib(pid)
        # One unmeasured event per job: the subscriptions are live end to end.
        for job in jobs:
            await mutate(http, job, f"warm {tag} {job[-6:]}")
        await asyncio.sleep(2.0)
        sent: list[tuple[str, str, float]] = []
        cpu = (cpu_seconds(pid), time.process_time(), time.perf_counter())
        for m in range(args.mutations):
            job = jobs[m % len(jobs)]
            title = f"bench {tag} {m}"
            sent.append((job, title, await mutate(http, job, title)))
            await asyncio.sleep(args.interval)
        await asyncio.sleep(args.drain)
        rss_end = rss_kib(pid)
        wall = time.perf_counter() - cpu[2]
        gateway_cpu = cpu_seconds(pid) - cpu[0]
        busy = {"gateway": round(gateway_cpu / wall, 3),
                "client": round((time.process_time() - cpu[1]) / wall, 3)}  # fmt: skip
        for s in held:
            await s.ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
        for job, title in originals.items():  # leave the data as it was
            await mutate(http, job, title)
    result = summarize(args, subs, sent, before, after, rss_end, connect_seconds)
    delivered = result["pairs_delivered"]
    per = round(gateway_cpu * 1000 / delivered, 3) if delivered else None
    return {**result, "cpu_share_during_events": busy, "gateway_cpu_ms_per_delivery": per}


def summarize(
    args: argparse.Namespace, subs: list[Subscriber], sent: list[tuple[str, str, float]],
    before: int, after: int, rss_end: int, connect_seconds: float,
) -> dict[str, Any]:  # fmt: skip
    latencies: list[float] = []
    first_last: list[tuple[float, float]] = []  # per event: first and last arrival, ms
    expected = 0
    for job, title, done in sent:
        arrivals = [(s.received[title] - done) * 1000 for s in subs
                    if s.job == job and title in s.received]  # fmt: skip
        expected += sum(s.job == job for s in subs)
        latencies.extend(arrivals)
        if arrivals:
            first_last.append((min(arrivals), max(arrivals)))
    latencies.sort()
    held = sum(s.acked for s in subs)
    errors = [e for s in subs for e in s.errors]

    def pct(p: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)
            if latencies
            else None
        )

    return {
        "subscribers": args.subscribers, "acked": held, "jobs": args.jobs,
        "mutations": args.mutations, "interval_s": args.interval,
        "connect_seconds": round(connect_seconds, 2),
        "pairs_expected": expected, "pairs_delivered": len(latencies),
        "delivered_fraction": round(len(latencies) / expected, 4) if expected else 0.0,
        "latency_ms": {"p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0),
                       "mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "per_event_ms": {
            "first_arrival_median": round(statistics.median(f for f, _ in first_last), 1),
            "last_arrival_median": round(statistics.median(last for _, last in first_last), 1),
        } if first_last else None,
        "rss_kib": {"before": before, "with_connections": after, "at_end": rss_end},
        "rss_kib_per_connection": round((after - before) / held, 1) if held else None,
        "errors": len(errors), "error_samples": errors[:5],
    }  # fmt: skip


def report(result: dict[str, Any]) -> None:
    lat = result["latency_ms"]
    rows = [
        ("subscribers (acked / asked)", f"{result['acked']} / {result['subscribers']}"),
        ("connect time, s", result["connect_seconds"]),
        ("events x subscribers delivered",
         f"{result['pairs_delivered']} / {result['pairs_expected']}"
         f" ({result['delivered_fraction']:.2%})"),
        ("latency p50 / p99 / max, ms", f"{lat['p50']} / {lat['p99']} / {lat['max']}"),
        ("per event: first / last arrival, median ms",
         "-" if not result["per_event_ms"] else
         f"{result['per_event_ms']['first_arrival_median']} / "
         f"{result['per_event_ms']['last_arrival_median']}"),
        ("CPU share while events ran: gateway / client",
         f"{result['cpu_share_during_events']['gateway']} / "
         f"{result['cpu_share_during_events']['client']}"),
        ("gateway CPU per delivered event, ms", result["gateway_cpu_ms_per_delivery"]),
        ("RSS before / with N, MiB", f"{result['rss_kib']['before'] / 1024:.1f} / "
         f"{result['rss_kib']['with_connections'] / 1024:.1f}"),
        ("RSS per connection, KiB", result["rss_kib_per_connection"]),
        ("client-side errors", result["errors"]),
    ]  # fmt: skip
    print(f"\nsubscriptions: 1 gateway worker, {result['jobs']} job(s), "
          f"{result['mutations']} updateJob every {result['interval_s']} s")  # fmt: skip
    for name, value in rows:
        print(f"  {name:<44} {value}")
    if result["error_samples"]:
        print(f"  error samples: {result['error_samples']}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = out / f"subscriptions-{result['subscribers']}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"  written to {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--pg-url")
    parser.add_argument("--mongo-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1, help="subscribers spread over this many")
    parser.add_argument("--mutations", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between mutations")
    parser.add_argument("--batch", type=int, default=50, help="connections opened at once")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--drain", type=float, default=5.0, help="wait after the last one")
    args = parser.parse_args()

    nofile = raise_nofile(args.subscribers + 200)
    print(f"RLIMIT_NOFILE {nofile}")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **stack.enter_context(stores(args)), **AUTH_ENV,
               "HIREGRAPH_BROKER__NAMESPACE": f"subbench{uuid.uuid4().hex[:8]}",
               "HIREGRAPH_WEBSOCKET__MAX_CONNECTIONS_PER_VIEWER": str(args.subscribers + 10),
               "HIREGRAPH_RESPONSE_CACHE__ENABLED": "false"}  # fmt: skip
        port = free_port()
        gw_log, relay_log = Path(tmp) / "gateway.log", Path(tmp) / "relay.log"
        gateway = stack.enter_context(process(
            [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)],
            {**env, "HIREGRAPH_DATA_DIR": str(Path(tmp) / "gw")}, gw_log,
        ))  # fmt: skip
        stack.enter_context(process(
            [sys.executable, "-m", "gateway", "worker", "--no-consumers"],
            {**env, "HIREGRAPH_DATA_DIR": str(Path(tmp) / "relay")}, relay_log,
        ))  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, gateway, gw_log)
        result = asyncio.run(run(args, base, gateway.pid))
    report(result)


if __name__ == "__main__":
    main()
