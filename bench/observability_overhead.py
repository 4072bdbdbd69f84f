"""What metrics, request logs and tracing cost: gateway CPU per job-board request.

    uv run --extra embedded python bench/observability_overhead.py [--duration 8] [--rounds 3]

Four copies of the job-board gateway (bench/job_board.py's query, stores and server; compiled
operations, caches off) run side by side, differing only in observability settings:
`off` (metrics, access log and tracing off), `metrics` (the default metrics, no access
log), `metrics+logs` (the defaults: metrics and one JSON log line per request, written
to /dev/null) and `tracing` (metrics and logs plus OpenTelemetry, exporting every span
over OTLP/HTTP to a local sink that answers 200 and drops them). wrk drives them in
interleaved rounds so machine noise hits all alike; the figure is the gateway worker's
CPU time per request (from /proc), and each variant's ratio to `off`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import job_board  # noqa: E402
from bench.cpu_per_request import cpu_seconds, listener_pid  # noqa: E402

OFF = {"HIREGRAPH_OBSERVABILITY__METRICS_ENABLED": "false",
       "HIREGRAPH_OBSERVABILITY__ACCESS_LOG": "false"}  # fmt: skip
VARIANTS = {
    "off": OFF,
    "metrics": {"HIREGRAPH_OBSERVABILITY__ACCESS_LOG": "false"},
    "metrics+logs": {},
    "tracing": {"HIREGRAPH_OBSERVABILITY__TRACING_ENABLED": "true"},
}


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that accepts every export and keeps nothing."""

    exported = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        _Sink.exported += 1
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@contextlib.contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Children started inside write their stdout (the JSON request logs) to /dev/null."""
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    os.dup2(null, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / ".hiregraph-bench"))
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    for store in ("pg", "mongo", "redis"):
        parser.add_argument(f"--{store}-url")
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    path = per_request_path()
    print("in process, observation per request (CPU):",
          ", ".join(f"{k} {v:.1f} us" for k, v in path.items()))  # fmt: skip
    if args.in_process_only:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"query": job_board.QUERY}, f)
    with job_board.stores(args) as env, otlp_sink() as sink, contextlib.ExitStack() as stack:
        urls = {}
        for name, extra in VARIANTS.items():
            otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink, "OTEL_SERVICE_NAME": f"bench-{name}"}
            with quiet_stdout():
                app = job_board.VARIANTS["hiregraph"]
                urls[name] = stack.enter_context(job_board.server(app, {**env, **otel, **extra}))
        cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
        rps: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for url in urls.values():
            job_board.check(url)
            job_board.wrk(url, f.name, 2, args.connections)  # warm-up
        for _ in range(args.rounds):
            for name, url in urls.items():
                per_request, rate = measure(url, f.name, args)
                cpu[name].append(per_request)
                rps[name].append(rate)
        report(cpu, rps, args, _Sink.exported)


def per_request_path(repeat: int = 20_000) -> dict[str, float]:
    """In process, without the network or the stores: microseconds of observation per
    job-board request (the request's begin/admit/finish plus what its store calls, loader
    batches and cache lookups report: 3 statements, 2 batches, 1 cache lookup), for
    each setting; the access log goes to /dev/null."""
    from datasources import observe
    from domain.viewer import PUBLIC
    from gateway.observability import logs, metrics
    from gateway.observability.request import Observer
    from gateway.settings_observability import ObservabilitySettings

    payload = {"query": job_board.QUERY, "operationName": "JobBoard"}
    timings = {}
    with open(os.devnull, "w") as null:
        logs.configure("INFO", null)
        for name, on, access in (("off", False, False), ("metrics", True, False),
                                 ("metrics+logs", True, True)):  # fmt: skip
            observer = Observer(ObservabilitySettings(metrics_enabled=on, access_log=access))
            metrics.install(on)
            started = time.process_time()
            for _ in range(repeat):
                seen = observer.begin([])
                observer.admitted(seen, PUBLIC, payload)
                with observer.span(seen):
                    for _ in range(3):
                        observe.sink.store_call("postgres", "SELECT", 0.001, True)
                    observe.sink.batch("company", 50)
                    observe.sink.batch("application_count_of_job", 50)
                    observe.sink.cache("entities", 40, 10)
                observer.finish(seen)
            timings[name] = (time.process_time() - started) / repeat * 1e6
        metrics.install(False)
    return timings


def measure(url: str, body_file: str, args: argparse.Namespace) -> tuple[float, float]:
    pid = listener_pid(url.split(":")[2].split("/")[0])
    before, started = cpu_seconds(pid), time.monotonic()
    result = job_board.wrk(url, body_file, args.duration, args.connections)
    requests = result["rps"] * (time.monotonic() - started)
    return (cpu_seconds(pid) - before) / requests * 1000, result["rps"]


def report(
    cpu: dict[str, list[float]], rps: dict[str, list[float]], args: argparse.Namespace,
    exported: int,
) -> None:  # fmt: skip
    base = statistics.median(cpu["off"])
    print(f"job board, {args.rounds} interleaved rounds of {args.duration} s, "
          f"{args.connections} connections; median gateway CPU per request:")  # fmt: skip
    for name in VARIANTS:
        median = statistics.median(cpu[name])
        rounds = ", ".join(f"{c:.3f}" for c in cpu[name])
        print(f"  {name:13} {median:.3f} ms  x{median / base:.3f} of off   "
              f"({statistics.median(rps[name]):.0f} req/s; rounds: {rounds})")  # fmt: skip
    print(f"OTLP export requests received by the sink: {exported}")


if __name__ == "__main__":
    main()
