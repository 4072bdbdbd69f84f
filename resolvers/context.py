"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from strawberry.fastapi.context import BaseContext

from datasources.ports import Datasources
from resolvers.loaders import Loaders


class Context(BaseContext):
    """A new Context per HTTP request or WebSocket connection."""

    def __init__(self, datasources: Datasources) -> None:
        super().__init__()
        self.datasources = datasources
        self.loaders = Loaders(datasources)
