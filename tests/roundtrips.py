"""Count real round trips: the adapters' own statement counter, commands on a Mongo client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import monitoring

from datasources import roundtrips
from datasources.roundtrips import RoundTrips

_IGNORED_MONGO = {"hello", "isMaster", "ismaster", "ping", "endSessions", "saslStart"}


@contextmanager
def statements() -> Iterator[RoundTrips]:
    """Count the round trips the adapters make inside the block (their own counter)."""
    yield roundtrips.begin()


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
