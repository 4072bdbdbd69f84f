"""GraphQL over HTTP and WebSocket at /graphql: Strawberry's ASGI app, routed directly.

Routed as a plain Starlette route rather than FastAPI's GraphQLRouter: the router
resolves FastAPI dependencies on every request, which measured at several percent of
a job-board request's CPU, and the gateway needs none of them.

A JSON POST whose operation is compiled (`schema.compiled`) is answered here without
Strawberry's view or graphql-core's execution. Anything else, and any compiled request
that needs an error, is replayed to Strawberry unchanged.
"""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from gateway.viewers import viewer_of
from resolvers.context import Context
from schema.compiled import CompiledOperations

MAX_BODY = 1 << 20  # larger bodies go to Strawberry's view, which reads any size


class GraphQLApp(GraphQL[Context, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        graphiql: bool,
        compiled: CompiledOperations | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        )
        self.compiled = compiled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.compiled is not None and _json_post(scope):
            body, complete = await _read_body(receive)
            if complete and await self._answer_compiled(scope, body, send):
                return
            receive = _replay(body, complete, receive)
        await super().__call__(scope, receive, send)

    async def _answer_compiled(self, scope: Scope, body: bytes, send: Send) -> bool:
        assert self.compiled is not None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(payload, dict) or not isinstance(query := payload.get("query"), str):
            return False
        name, variables = payload.get("operationName"), payload.get("variables")
        if payload.get("extensions") or not isinstance(name, str | None):
            return False
        if not isinstance(variables, dict | None):
            return False
        request = Request(scope)
        viewer = await viewer_of(request)
        context = Context(scope["app"].state.datasources, request, viewer=viewer)
        result = await self.compiled.execute(context, query, name, variables)
        if result is None:
            return False
        content = orjson.dumps(result)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
        return True

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        viewer = await viewer_of(request)
        return Context(request.app.state.datasources, request, response, viewer=viewer)

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)


def _json_post(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body up to MAX_BODY; False when more (or a disconnect) is pending."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A receive that hands over what was read, then the rest from the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
