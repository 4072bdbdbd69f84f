"""Metrics, traces and logs (issue 10): see README "Operating".

`install(app, settings)` is called by `create_app`; `lifespan(inner)` wraps the app's
lifespan to report its connection pools and, under several workers, to keep the
scrape-time gauges fresh for whichever worker answers /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import structlog

from gateway.observability import logs, metrics, tracing
from gateway.observability.request import Observer
from gateway.settings_observability import ObservabilitySettings

SAMPLE_SECONDS = 5.0
Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def install(app: Any, settings: ObservabilitySettings) -> None:
    if not structlog.is_configured():
        logs.configure(settings.log_level)
    metrics.install(settings.metrics_enabled)
    app.state.observer = Observer(settings)
    if settings.tracing_enabled:
        tracing.enable()
        app.graphql_http = tracing.wrap_asgi(app.graphql)
        tracing.instrument_fastapi(app)


def serve_worker_metrics(settings: ObservabilitySettings, host: str) -> None:
    """`hiregraph worker`: feed the metrics and serve them on their own port."""
    if not structlog.is_configured():
        logs.configure(settings.log_level)
    metrics.install(settings.metrics_enabled)
    if settings.metrics_enabled and settings.worker_metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.worker_metrics_port, addr=host)
        except OSError as error:  # e.g. a second worker on one host: run, unscraped
            logs.logger().warning(
                "worker_metrics_unavailable", port=settings.worker_metrics_port, error=str(error)
            )


def lifespan(inner: Lifespan) -> Lifespan:
    @asynccontextmanager
    async def observed(app: Any) -> AsyncIterator[None]:
        async with inner(app):
            names = _register_pools(app)
            sampler = None
            if metrics.multiprocess_dir() is not None:
                sampler = asyncio.create_task(_sample_forever())
            try:
                yield
            finally:
                if sampler is not None:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
                for name in names:
                    metrics.unregister(name)

    return observed


def _register_pools(app: Any) -> list[str]:
    """The read pool (asyncpg) and the write engine's pool (SQLAlchemy), when the
    lifespan left them on `app.state`."""
    names = []
    read = getattr(app.state, "read_pool", None)
    if read is not None:
        metrics.register_pool(
            "postgres_read", lambda: (read.get_size() - read.get_idle_size(), read.get_max_size())
        )
        names.append("postgres_read")
    engine = getattr(app.state, "write_engine", None)
    if engine is not None:
        pool = engine.sync_engine.pool
        metrics.register_pool("postgres_write", lambda: (pool.checkedout(), pool.size()))
        names.append("postgres_write")
    return names


async def _sample_forever() -> None:
    while True:
        metrics.GAUGES.sample()
        await asyncio.sleep(SAMPLE_SECONDS)


__all__ = ["install", "lifespan", "logs", "metrics", "serve_worker_metrics", "tracing"]
