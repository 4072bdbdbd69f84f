"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from typing import Any

from datasources.ports import Datasources
from domain.viewer import PUBLIC, Viewer
from resolvers.loaders import Loaders


class Context:
    """A new Context per HTTP request or WebSocket connection, for one viewer.

    `request` and `response` are the transport's objects (set by the gateway); the
    resolvers never need them, the gateway's own hooks (caching headers) will.
    `viewer` is who is asking (the gateway resolves it; PUBLIC when nobody is signed
    in). The loaders are built for that viewer, so their batches and caches apply its
    scope and are never shared with another viewer.
    """

    def __init__(
        self,
        datasources: Datasources,
        request: Any = None,
        response: Any = None,
        *,
        viewer: Viewer = PUBLIC,
    ) -> None:
        self.datasources = datasources
        self.viewer = viewer
        self.loaders = Loaders(datasources, viewer)
        self.request = request
        self.response = response
        self.field_suggestions = True  # "Did you mean ...?" in validation errors

    def reads_for(self, operation: str) -> Datasources:
        """The ports an operation of this type ("query", "mutation", "subscription")
        reads with: the replicas' for a query, the primaries' otherwise (a mutation's
        payload must show its own write; an event names a write a replica may not have).
        Called before execution: the loaders are rebuilt on the ports chosen. A WebSocket
        connection shares one Context, so after its first subscription or mutation its
        queries read from the primaries too (the safe direction)."""
        primary = self.datasources.primary
        if operation != "query" and primary is not None:
            self.datasources = primary
            self.loaders = Loaders(primary, self.viewer)
        return self.datasources
