"""Round trips to the stores, counted per GraphQL operation.

The operation sets a fresh `RoundTrips` in a context variable; the SQLAlchemy engine
listener and the PyMongo command listener increment whatever is current. Tasks that
resolvers spawn inherit the context, so every statement of the operation is counted.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any

from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources import observe

_current: ContextVar[RoundTrips | None] = ContextVar("hiregraph_round_trips", default=None)

# Driver housekeeping, not work the operation asked for.
_MONGO_IGNORED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "saslStart"})


@dataclass
class RoundTrips:
    postgres: int = 0
    mongo: int = 0
    redis: int = 0  # cache commands and pipelines

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def begin() -> RoundTrips:
    counter = RoundTrips()
    _current.set(counter)
    return counter


def current() -> RoundTrips | None:
    return _current.get()


def count_redis() -> None:
    """One round trip to Redis (a command or a pipeline) for the current operation."""
    counter = _current.get()
    if counter is not None:
        counter.redis += 1


def _count_sql(*_: Any) -> None:
    counter = _current.get()
    if counter is not None:
        counter.postgres += 1


def _started(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
    conn.info["hiregraph_started"] = time.perf_counter()


def _finished(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
    started = conn.info.pop("hiregraph_started", None)
    if started is not None:
        elapsed = time.perf_counter() - started
        observe.sink.store_call("postgres", observe.sql_operation(statement), elapsed, True)


def _failed(context: Any) -> None:
    conn = context.connection
    started = None if conn is None else conn.info.pop("hiregraph_started", None)
    if started is not None:
        statement = observe.sql_operation(context.statement or "")
        observe.sink.store_call("postgres", statement, time.perf_counter() - started, False)


def instrument_engine(engine: AsyncEngine) -> None:
    """Count the engine's statements per operation, and report each to observability."""
    event.listen(engine.sync_engine, "before_cursor_execute", _count_sql)
    event.listen(engine.sync_engine, "before_cursor_execute", _started)
    event.listen(engine.sync_engine, "after_cursor_execute", _finished)
    event.listen(engine.sync_engine, "handle_error", _failed)


class MongoRoundTrips(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in _MONGO_IGNORED:
            counter = _current.get()
            if counter is not None:
                counter.mongo += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in _MONGO_IGNORED:
            observe.sink.store_call("mongo", event.command_name, event.duration_micros / 1e6, True)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name not in _MONGO_IGNORED:
            seconds = event.duration_micros / 1e6
            observe.sink.store_call("mongo", event.command_name, seconds, False)
