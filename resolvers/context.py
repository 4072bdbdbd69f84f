"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from typing import Any

from datasources.ports import Datasources
from resolvers.loaders import Loaders


class Context:
    """A new Context per HTTP request or WebSocket connection.

    `request` and `response` are the transport's objects (set by the gateway); the
    resolvers never need them, the gateway's own hooks (auth, caching headers) will.
    """

    def __init__(self, datasources: Datasources, request: Any = None, response: Any = None) -> None:
        self.datasources = datasources
        self.loaders = Loaders(datasources)
        self.request = request
        self.response = response
