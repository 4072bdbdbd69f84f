"""What the datasources report to observability: store calls, cache lookups, batches.

Datasources import nothing from the gateway, so the gateway installs a `Sink` at start
(`gateway.observability.metrics.install`); until then every call is a no-op. The sink is
process-wide (one per process, like the prometheus registry it feeds).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol


class Sink(Protocol):
    def store_call(self, store: str, operation: str, seconds: float, ok: bool) -> None: ...

    def cache(self, layer: str, hits: int, misses: int) -> None: ...

    def batch(self, loader: str, size: int) -> None: ...

    def outbox(self, store: str, lag_seconds: float) -> None: ...

    def relay_error(self, store: str) -> None: ...

    def analytics_read(self, rollup: str, outcome: str) -> None: ...

    def rollup_refresh(self, rollup: str, seconds: float, ok: bool) -> None: ...


class _Nothing:
    def store_call(self, store: str, operation: str, seconds: float, ok: bool) -> None:
        return None

    def cache(self, layer: str, hits: int, misses: int) -> None:
        return None

    def batch(self, loader: str, size: int) -> None:
        return None

    def outbox(self, store: str, lag_seconds: float) -> None:
        return None

    def relay_error(self, store: str) -> None:
        return None

    def analytics_read(self, rollup: str, outcome: str) -> None:
        return None

    def rollup_refresh(self, rollup: str, seconds: float, ok: bool) -> None:
        return None


sink: Sink = _Nothing()
# An OpenTelemetry tracer while tracing is on (`gateway.observability.tracing`), else
# None: instrumented code checks it and creates no span object when tracing is off.
tracer: Any = None


def install(new: Sink | None) -> None:
    """Set the process's sink (None: back to no-ops)."""
    global sink
    sink = new or _Nothing()


def outbox_lag(store: str, rows: Any) -> None:
    """The age of the oldest event a relay batch claimed (0 when the outbox is empty)."""
    oldest = min((r["occurred_at"] for r in rows), default=None)
    if oldest is None:
        sink.outbox(store, 0.0)
        return
    if oldest.tzinfo is None:  # BSON dates come back naive, in UTC
        oldest = oldest.replace(tzinfo=UTC)
    sink.outbox(store, max(0.0, (datetime.now(UTC) - oldest).total_seconds()))


def sql_operation(sql: str) -> str:
    """The statement's verb (SELECT, INSERT, ...): a bounded label, never the text."""
    verb = sql.lstrip()[:8].split(None, 1)
    word = verb[0].upper() if verb else ""
    return word if word in _SQL_VERBS else "OTHER"


_SQL_VERBS = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SET"}
)
