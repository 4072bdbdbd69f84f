"""/metrics in the Prometheus text format (the metrics: gateway.observability.metrics).

For now the cache's counters (`datasources.cache.keys.CacheStats`): entity, result and
response-cache hits, misses, writes, and the Redis calls that failed or timed out (and
fell through to the stores). Each app has its own registry, so building an app (a test
builds many) registers nothing globally; the collector reads the live counters at
scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from datasources.cache.keys import CacheStats
from datasources.resilience import Resilience
from gateway.observability import metrics as observed

router = APIRouter()

_COUNTERS = (
    ("hits", "Cache lookups answered from Redis (entities, results, responses)"),
    ("misses", "Cache lookups that went to the stores"),
    ("writes", "Entries written to the cache"),
    ("redis_errors", "Cache calls to Redis that failed or timed out, or were skipped while "
     "Redis was considered down; the request was answered from the stores"),
)  # fmt: skip


class CacheCollector(Collector):
    def __init__(self, stats: CacheStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, documentation in _COUNTERS:
            family = CounterMetricFamily(f"hiregraph_cache_{name}", documentation)
            family.add_metric([], getattr(self.stats, name))
            yield family


class BreakerCollector(Collector):
    """How often each store's circuit breaker opened and how many calls it refused
    while open. (Its state is `hiregraph_circuit_breaker_state`, registered with
    `gateway.observability.metrics.register_breaker_state` by the lifespan.)"""

    def __init__(self, resilience: Resilience) -> None:
        self.resilience = resilience

    def collect(self) -> Iterator[CounterMetricFamily]:
        opened = CounterMetricFamily(
            "hiregraph_circuit_breaker_opened", "Times a store's breaker opened", labels=["store"]
        )
        rejected = CounterMetricFamily(
            "hiregraph_circuit_breaker_rejected",
            "Store calls failed fast while the breaker was open",
            labels=["store"],
        )
        retries = CounterMetricFamily(
            "hiregraph_store_read_retries",
            "Store reads retried after a connection failure",
            labels=["store"],
        )
        for store, guard in self.resilience.guards.items():
            opened.add_metric([store], guard.breaker.opened)
            rejected.add_metric([store], guard.breaker.rejected)
            retries.add_metric([store], guard.retries)
        yield from (opened, rejected, retries)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: CollectorRegistry | None = getattr(request.app.state, "metrics", None)
    if registry is None:
        stats: CacheStats = getattr(request.app.state, "cache_stats", CacheStats())
        # The gateway's metrics (gateway.observability.metrics), plus this process's
        # cache and breaker counters when a single process answers for the whole gateway.
        local: list[object] = [CacheCollector(stats)]
        resilience: Resilience | None = getattr(request.app.state, "resilience", None)
        if resilience is not None:
            local.append(BreakerCollector(resilience))
        registry = observed.registry(local)
        request.app.state.metrics = registry
    observed.GAUGES.sample()
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
