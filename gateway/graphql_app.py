"""GraphQL over HTTP and WebSocket at /graphql: Strawberry's ASGI app, routed directly.

Routed as a plain Starlette route rather than FastAPI's GraphQLRouter: the router
resolves FastAPI dependencies on every request, which measured at several percent of
a job-board request's CPU, and the gateway needs none of them.
"""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from resolvers.context import Context


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, *, graphiql: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(request.app.state.datasources, request, response)

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)
