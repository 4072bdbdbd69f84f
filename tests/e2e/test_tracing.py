"""Tracing on: the span tree of one query that touches Postgres, Mongo and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracer, ProxyTracer

from datasources import observe
from gateway.app import create_app
from gateway.observability import tracing
from tests.e2e.conftest import Seeded
from tests.e2e.test_authz import token_for
from tests.e2e.test_observability import ADMIN, ALL_STORES, settings_for


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    tracing.enable(spans)
    yield spans
    tracing.disable()
    spans.shutdown()


def _system(span: ReadableSpan) -> str | None:
    attributes = span.attributes or {}
    value = attributes.get("db.system.name", attributes.get("db.system"))
    return None if value is None else str(value)


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        span = by_id[parent.span_id]
        chain.append(span)
        parent = span.parent
    return chain


async def test_one_query_is_one_trace_from_http_down_to_each_store(
    seeded: Seeded, exporter: InMemorySpanExporter
) -> None:
    settings = settings_for(seeded, tracing_enabled=True)
    settings.cache.key_prefix += ":trace"  # a cold cache: the loaders reach the stores
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            exporter.clear()
            response = await http.post(
                "/graphql",
                json={"query": ALL_STORES},
                headers={"authorization": f"Bearer {token_for(ADMIN)}"},
            )
    assert response.status_code == 200, response.text
    trace_id = int(response.headers["x-trace-id"], 16)
    # Only the request's trace: the event hub's XREAD loop and the lifespan's shutdown
    # (Mongo endSessions) are traces of their own.
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
    assert spans
    by_id = {s.context.span_id: s for s in spans}
    roots = [s for s in spans if s.parent is None]
    assert [r.name for r in roots] == ["POST /graphql"]
    operations = [s for s in spans if s.name == "query AllStores"]
    assert len(operations) == 1
    operation = operations[0]
    assert operation.parent is not None
    assert operation.parent.span_id == roots[0].context.span_id
    assert (operation.attributes or {})["graphql.operation.name"] == "AllStores"
    loaders = [s for s in spans if s.name.startswith("loader ")]
    assert loaders
    for loader in loaders:  # every batch inside the operation
        assert operation in _ancestors(loader, by_id)
    seen: dict[str, list[str]] = {}
    for span in spans:
        system = _system(span)
        if system is None:
            continue
        chain = _ancestors(span, by_id)
        assert roots[0] in chain
        if operation not in chain:  # only the guard's rate limiter runs before execution
            assert (system, span.name) in (("redis", "EVALSHA"), ("redis", "SCRIPT LOAD"))
            continue
        seen.setdefault(system, []).extend(c.name for c in chain if c.name.startswith("loader "))
    assert {"postgresql", "mongodb", "redis"} <= set(seen), seen
    # Store calls made by loader batches nest under their loader's span: the company
    # loader reads the entity cache (Redis), then Postgres for the misses.
    assert "loader company" in seen["redis"], seen
    assert "loader company" in seen["postgresql"], seen
    # Not a span per field: far fewer spans than fields resolved.
    assert len(spans) < 60, len(spans)


async def test_tracing_off_installs_nothing_and_starts_no_span(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracing.disable()
    started: list[str] = []
    for tracer_class in (SdkTracer, ProxyTracer, NoOpTracer):
        original = tracer_class.start_span

        def counting(self: Any, name: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
            started.append(name)
            return _original(self, name, *args, **kw)

        monkeypatch.setattr(tracer_class, "start_span", counting)
    app = create_app(settings_for(seeded))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            response = await http.post(
                "/graphql",
                json={"query": ALL_STORES},
                headers={"authorization": f"Bearer {token_for(ADMIN)}"},
            )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()
    assert started == []  # no span object at all, not even a non-recording one
    assert observe.tracer is None
    assert tracing.current_trace_id() is None
    # The instrumentations wrap the drivers' methods only when on.
    fetch: Any = asyncpg.connection.Connection.fetch
    assert not hasattr(fetch, "__wrapped__")
