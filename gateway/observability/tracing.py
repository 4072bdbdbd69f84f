"""OpenTelemetry tracing: off by default, and then nothing is installed.

On (HIREGRAPH_OBSERVABILITY__TRACING_ENABLED=true), `enable` sets a tracer provider
whose OTLP/HTTP exporter reads the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, ...), and installs
the asyncpg, PyMongo and Redis client instrumentations. The app then wraps /graphql in
the ASGI server span (the FastAPI instrumentation covers the other routes); the gateway
adds a span per GraphQL operation and per DataLoader batch (`datasources.observe.tracer`),
under which the client spans of the store calls nest. Not per field: a resolver that
touches a store does so through a loader batch or a repository call with a client span.

SQLAlchemy's own instrumentation refuses SQLAlchemy 2.1 (it declares `< 2.1.0`), so the
write engine's statements are traced by the asyncpg instrumentation underneath it.
Off, no instrumentation is installed, `datasources.observe.tracer` stays None and no
span object is created per request (measured in bench/observability_overhead.py).
"""

from __future__ import annotations

import os
from typing import Any

from datasources import observe

_installed = False


def enable(exporter: Any = None) -> Any:
    """Install tracing for this process (idempotent); `exporter` replaces the OTLP one
    (tests pass an in-memory exporter). Returns the tracer provider."""
    global _installed
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the default name.
        named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
            "OTEL_RESOURCE_ATTRIBUTES", ""
        )
        provider = TracerProvider(
            resource=Resource.create({} if named else {"service.name": "hiregraph"})
        )
        trace.set_tracer_provider(provider)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif not _installed:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if not _installed:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        AsyncPGInstrumentor().instrument(  # type: ignore[no-untyped-call]
            tracer_provider=provider
        )
        PymongoInstrumentor().instrument(tracer_provider=provider)
        RedisInstrumentor().instrument(tracer_provider=provider)
        _installed = True
    observe.tracer = trace.get_tracer("hiregraph")
    return provider


def disable() -> None:
    """Undo `enable` for this process (tests; a process normally keeps its choice)."""
    global _installed
    observe.tracer = None
    if _installed:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        PymongoInstrumentor().uninstrument()
        RedisInstrumentor().uninstrument()
        _installed = False


def wrap_asgi(app: Any) -> Any:
    """`app` inside the OpenTelemetry ASGI middleware: the HTTP server span."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app, excluded_urls="/metrics,/health,/livez,/readyz")


def instrument_fastapi(app: Any) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="/metrics,/health,/livez,/readyz")


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), when tracing is on and one is open."""
    if observe.tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
