"""The gateway's Prometheus metrics, their label folding, and the /metrics registry.

Metrics are process-wide (prometheus-client's default way): every app built in one
process adds to the same series, which is what a process serves. Under `hiregraph serve
--workers N` the CLI sets PROMETHEUS_MULTIPROC_DIR (under DATA_DIR, emptied at start)
before the workers start, each worker writes its samples there, and /metrics (answered
by any worker) aggregates all of them with a `MultiProcessCollector`: counters and
histograms sum across workers, gauges sum the live workers' values (breaker state: the
maximum).

Label cardinality is bounded: the `operation` label is the GraphQL operation's name,
folded by `OperationNames` (see there); store operations are SQL verbs and Mongo
command names; error codes, cache layers, loaders and stores are fixed sets in the code.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

from datasources import observe
from domain.viewer import Viewer

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STORE_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
_OP = ("operation", "type", "outcome")

REQUESTS = Counter("hiregraph_http_requests", "GraphQL requests over HTTP", _OP)
DURATION = Histogram(
    "hiregraph_http_request_duration_seconds", "GraphQL request latency", _OP, buckets=_LATENCY
)
ERRORS = Counter("hiregraph_graphql_errors", "GraphQL errors by extensions.code",
                 ("operation", "code"))  # fmt: skip
STORE_CALLS = Counter("hiregraph_store_calls", "Calls to the stores",
                      ("store", "operation", "outcome"))  # fmt: skip
STORE_LATENCY = Histogram("hiregraph_store_call_duration_seconds", "Store call latency",
                          ("store", "operation"), buckets=_STORE_LATENCY)  # fmt: skip
BATCH_SIZE = Histogram("hiregraph_dataloader_batch_size", "Keys per DataLoader batch",
                       ("loader",), buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000))  # fmt: skip
_TRIPS = (0, 1, 2, 3, 5, 8, 13, 21, 50, 100)
ROUND_TRIPS = Histogram("hiregraph_operation_round_trips", "Store round trips per operation",
                        ("operation", "store"), buckets=_TRIPS)  # fmt: skip
CACHE = Counter("hiregraph_cache_lookups", "Cache lookups by layer and result (hit, miss)",
                ("layer", "result"))  # fmt: skip
_COSTS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
COST = Histogram("hiregraph_operation_cost", "Computed query cost of admitted operations",
                 ("operation",), buckets=_COSTS)  # fmt: skip
RATE_LIMITED = Counter("hiregraph_rate_limit_rejections", "Operations refused RATE_LIMITED",
                       ("viewer_kind",))  # fmt: skip
BREAKER = Gauge("hiregraph_circuit_breaker_state", "0 closed, 1 half-open, 2 open",
                ("store",), multiprocess_mode="livemax")  # fmt: skip
WS_CONNECTIONS = Gauge("hiregraph_websocket_connections", "Open GraphQL WebSockets",
                       multiprocess_mode="livesum")  # fmt: skip
SUBSCRIPTIONS = Gauge("hiregraph_subscriptions_active", "Active subscriptions",
                      multiprocess_mode="livesum")  # fmt: skip
OUTBOX_LAG = Gauge("hiregraph_outbox_lag_seconds", "Age of the oldest unrelayed outbox event",
                   ("store",), multiprocess_mode="livemax")  # fmt: skip
RELAY_ERRORS = Counter("hiregraph_outbox_relay_errors", "Outbox relay passes that failed",
                       ("store",))  # fmt: skip
ROLLUP_READS = Counter(
    "hiregraph_analytics_rollup_reads",
    "Aggregates a rollup covers: answered from it (rollup) or, too stale, live (stale)",
    ("rollup", "outcome"),
)
ROLLUP_REFRESH = Histogram(
    "hiregraph_analytics_rollup_refresh_seconds", "Rollup refreshes (worker) by outcome",
    ("rollup", "outcome"), buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)  # fmt: skip
POOL = Gauge("hiregraph_pool_connections", "Connection pool usage (in_use, size)",
             ("pool", "state"), multiprocess_mode="livesum")  # fmt: skip

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")


class OperationNames:
    """Bounded `operation` label values.

    Anonymous operations are `anonymous`; the first `cap` distinct valid names a process
    sees keep their name, any later one is `other` (so a client inventing names cannot
    grow the series without bound; under N workers at most N x cap names). Operations
    sent as persisted queries (APQ, trusted documents) carry their document's name, as
    the guard resolves them to their text first. A batch is `batch`.
    """

    def __init__(self, cap: int = 200) -> None:
        self.cap = cap
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def fold(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._seen:
            return name
        if not _NAME.match(name):
            return "other"
        with self._lock:
            if len(self._seen) >= self.cap:
                return "other"
            self._seen.add(name)
        return name


def viewer_kind(viewer: Viewer) -> str:
    """`api_key`, or the role (public, candidate, recruiter, admin): never an identity."""
    return "api_key" if viewer.api_key_id is not None else str(viewer.role.value).lower()


class Children:
    """`metric.labels(*values)`, memoized: prometheus-client's lookup costs a few
    microseconds, and a request reports a dozen samples. Bounded like the labels."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


requests, duration, errors = Children(REQUESTS), Children(DURATION), Children(ERRORS)
cost, round_trips = Children(COST), Children(ROUND_TRIPS)
_calls, _latency, _cache = Children(STORE_CALLS), Children(STORE_LATENCY), Children(CACHE)
_batch = Children(BATCH_SIZE)


class StoreSink:
    """The `datasources.observe.Sink` that feeds the metrics above."""

    def store_call(self, store: str, operation: str, seconds: float, ok: bool) -> None:
        _calls(store, operation, "ok" if ok else "error").inc()
        _latency(store, operation).observe(seconds)

    def cache(self, layer: str, hits: int, misses: int) -> None:
        if hits:
            _cache(layer, "hit").inc(hits)
        if misses:
            _cache(layer, "miss").inc(misses)

    def batch(self, loader: str, size: int) -> None:
        _batch(loader).observe(size)

    def outbox(self, store: str, lag_seconds: float) -> None:
        OUTBOX_LAG.labels(store).set(lag_seconds)

    def relay_error(self, store: str) -> None:
        RELAY_ERRORS.labels(store).inc()

    def analytics_read(self, rollup: str, outcome: str) -> None:
        ROLLUP_READS.labels(rollup, outcome).inc()

    def rollup_refresh(self, rollup: str, seconds: float, ok: bool) -> None:
        ROLLUP_REFRESH.labels(rollup, "ok" if ok else "error").observe(seconds)


def rate_limited(viewer: Viewer) -> None:
    RATE_LIMITED.labels(viewer_kind(viewer)).inc()


@dataclass
class Gauges:
    """Values read at scrape time (and, under several workers, every few seconds, so
    the files the other workers' /metrics reads stay fresh): pools and breakers."""

    pools: dict[str, Callable[[], tuple[int, int]]] = field(default_factory=dict)
    breakers: dict[str, Callable[[], int]] = field(default_factory=dict)

    def sample(self) -> None:
        for name, usage in list(self.pools.items()):
            in_use, size = usage()
            POOL.labels(name, "in_use").set(in_use)
            POOL.labels(name, "size").set(size)
        for store, state in list(self.breakers.items()):
            BREAKER.labels(store).set(state())


GAUGES = Gauges()


def register_pool(name: str, usage: Callable[[], tuple[int, int]]) -> None:
    """Report a connection pool: `usage()` returns (connections in use, pool size)."""
    GAUGES.pools[name] = usage


def register_breaker_state(store: str, state: Callable[[], int]) -> None:
    """The hook for circuit breakers: `state()` returns 0 (closed), 1 (half-open) or
    2 (open); it is read at scrape time as `hiregraph_circuit_breaker_state{store}`.
    Call it once per breaker (a later call for the same store replaces the getter)."""
    GAUGES.breakers[store] = state


def unregister(name: str) -> None:
    GAUGES.pools.pop(name, None)
    GAUGES.breakers.pop(name, None)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess_dir(data_dir: Path) -> Path:
    """Called by `serve --workers N` before the workers start: PROMETHEUS_MULTIPROC_DIR
    (as set, else `<data_dir>/prometheus`), emptied, for the workers to inherit. A stale
    directory would add a previous run's counts to this one's."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or data_dir / "prometheus")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def registry(process_local: list[object]) -> CollectorRegistry:
    """The registry /metrics serves: every worker's samples under multiprocess mode,
    else this process's (the default registry) plus the process-local collectors."""
    if multiprocess_dir() is not None:
        combined = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return combined
    from prometheus_client import REGISTRY

    local = CollectorRegistry(auto_describe=False)
    for collector in (REGISTRY, *process_local):
        local.register(collector)  # type: ignore[arg-type]
    return local


def install(enabled: bool) -> None:
    """Feed (or stop feeding) the datasources' store, cache and batch reports."""
    observe.install(StoreSink() if enabled else None)
