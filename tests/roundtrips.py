"""Count real round trips: SQL statements on an engine, commands on a Mongo client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_IGNORED_MONGO = {"hello", "isMaster", "ismaster", "ping", "endSessions", "saslStart"}


@dataclass
class SqlLog:
    statements: list[str] = field(default_factory=list)


@contextmanager
def sql_statements(engine: AsyncEngine) -> Iterator[SqlLog]:
    log = SqlLog()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


class MongoCommands(monitoring.CommandListener):
    """Records the name of every command a client sends (handshakes excluded)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in _IGNORED_MONGO:
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
