"""GraphQL over HTTP and WebSocket at /graphql: Strawberry's ASGI app, routed directly.

Routed as a plain Starlette route rather than FastAPI's GraphQLRouter: the router
resolves FastAPI dependencies on every request, which measured at several percent of
a job-board request's CPU, and the gateway needs none of them.

Every HTTP request first passes the request guard (`gateway.guard`): authentication,
CSRF prevention, body size, batching, trusted documents, introspection, static limits,
cost and rate limits, all before either executor runs. A JSON POST whose operation is
compiled (`schema.compiled`) is then answered here without Strawberry's view or
graphql-core's execution; anything else, and any compiled request that needs an error,
is replayed to Strawberry unchanged. Both executors run under the execution timeout.
Between the guard and the executors sits the response cache (`gateway.response_cache`,
when the app has one): a hit is answered from Redis without either executor.
"""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult

from datasources.resilience import request_budget
from domain.errors import HireGraphError, LimitExceeded
from domain.viewer import PUBLIC, Viewer
from gateway.guard import Admission, Refused, RequestGuard
from gateway.idempotency import idempotent
from gateway.limits import error_body, error_status, execution_timeout
from gateway.observability.request import Observation, Observer
from gateway.observability.request import current as observation
from gateway.response_cache import ResponseCache
from gateway.websocket import VIEWER, TextFrames
from gateway.websocket_protocols import GuardedGraphQLWS, GuardedTransportWS
from resolvers.context import Context
from schema.compiled import CompiledOperations

_TRIED_CONTEXT = "hiregraph.compiled_context"


class GraphQLApp(GraphQL[Context, None]):
    # Both WebSocket protocols, each guarded like HTTP (see gateway.websocket).
    graphql_transport_ws_handler_class = GuardedTransportWS
    graphql_ws_handler_class = GuardedGraphQLWS
    websocket_adapter_class = TextFrames

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
            max_subscriptions_per_connection=None,  # the sessions apply the settings' limit
        )
        self.compiled = compiled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guard: RequestGuard = scope["app"].state.guard
        state = scope.setdefault("state", {})
        if scope["type"] != "http":
            try:
                state[VIEWER] = await guard.authenticator.viewer_for(HTTPConnection(scope).headers)
            except HireGraphError:
                await send({"type": "websocket.close", "code": 4401})
                return
            await super().__call__(scope, receive, send)
            return
        observer: Observer = scope["app"].state.observer
        observation = observer.begin(scope["headers"])
        try:
            await self._serve(scope, receive, _observed(send, observation), guard, observation)
        finally:
            observer.finish(observation)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, guard: RequestGuard, seen: Observation
    ) -> None:
        state = scope["state"]
        try:
            admission = await guard.admit(scope, receive)
        except Refused as refusal:
            body = orjson.loads(refusal.body)  # refusals are rare: re-encoded with traceId
            seen.errors(None, body["errors"])
            seen.note("rejected")
            await _send_json(send, refusal.status, orjson.dumps(body), refusal.headers)
            return
        state[VIEWER] = admission.viewer
        observer: Observer = scope["app"].state.observer
        if seen.operation == "unknown":  # the guard had no GraphQL payload to note
            observer.admitted(seen, admission.viewer, admission.payload)
        if admission.headers:
            send = _with_headers(send, admission.headers)
        # One deadline and retry allowance for every store call of the request, shared
        # by both executors (datasources.resilience.budget).
        with request_budget(self._timeout(scope), _retry_budget(scope)):
            await self._execute(scope, receive, send, admission, seen)

    async def _execute(
        self, scope: Scope, receive: Receive, send: Send, admission: Admission, seen: Observation
    ) -> None:
        observer: Observer = scope["app"].state.observer
        async with idempotent(scope, admission, send) as guarded:  # Idempotency-Key
            if guarded.answered:
                return
            send = guarded.send
            cache: ResponseCache | None = getattr(scope["app"].state, "response_cache", None)
            if cache is not None:
                answered, send = await cache.answer(scope, admission, send)
                if answered:
                    return
            with observer.span(seen):
                compiled = self.compiled is not None
                if compiled and await self._answer_compiled(scope, admission, send, seen):
                    return
                await super().__call__(scope, _replay(admission.body, receive), send)

    async def _answer_compiled(
        self, scope: Scope, admission: Admission, send: Send, seen: Observation
    ) -> bool:
        assert self.compiled is not None
        payload = admission.payload
        if not isinstance(payload, dict) or not isinstance(query := payload.get("query"), str):
            return False
        # A GET's parameters come as a payload too (persisted queries resolved): same answer.
        if scope["method"] != "GET" and _content_type(scope) != b"application/json":
            return False
        name, variables = payload.get("operationName"), payload.get("variables")
        if payload.get("extensions") or not isinstance(name, str | None):
            return False
        if not isinstance(variables, dict | None):
            return False
        context = self._context(Request(scope), None, admission.viewer)
        try:
            async with execution_timeout(self._timeout(scope)):
                result = await self.compiled.execute(context, query, name, variables)
        except LimitExceeded as timeout:
            body = error_body(timeout)
            seen.errors(None, body.get("errors"))
            await _send_json(send, error_status(timeout), orjson.dumps(body))
            return True
        if result is None:
            # graphql-core answers instead: with the same loaders, so what the compiled
            # attempt read (and which store failed) is not read again.
            scope["state"][_TRIED_CONTEXT] = context
            return False
        seen.errors(result.get("data"), result.get("errors"))
        await _send_json(send, 200, orjson.dumps(result))
        return True

    async def execute_single(  # type: ignore[override]
        self, *, sub_response: Any, request_data: Any, **kwargs: Any
    ) -> ExecutionResult:
        request = kwargs["request"]
        try:
            async with execution_timeout(self._timeout(request.scope)):
                return await super().execute_single(
                    sub_response=sub_response, request_data=request_data, **kwargs
                )
        except LimitExceeded as timeout:
            sub_response.status_code = error_status(timeout)
            extensions = {"code": timeout.code, **timeout.extensions}
            return ExecutionResult(None, [GraphQLError(timeout.message, extensions=extensions)])

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        response = await super().process_result(request, result)
        seen = observation()
        if seen is not None:
            seen.errors(response.get("data"), response.get("errors"))
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        tried: Context | None = request.scope["state"].pop(_TRIED_CONTEXT, None)
        if tried is not None:
            tried.response = response
            return tried
        return self._context(request, response, request.scope["state"].get(VIEWER, PUBLIC))

    @staticmethod
    def _context(connection: HTTPConnection, response: Any, viewer: Viewer) -> Context:
        state = connection.scope["app"].state
        context = Context(state.datasources, connection, response, viewer=viewer)
        # Field suggestions ("Did you mean ...?") describe the schema: prod keeps them
        # for admins, who may introspect anyway.
        context.field_suggestions = state.settings.env != "prod" or viewer.is_admin
        return context

    @staticmethod
    def _timeout(scope: Scope) -> float:
        seconds: float = scope["app"].state.settings.limits.execution_timeout_seconds
        return seconds

    def encode_json(self, data: Any) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # The guard reads with orjson and leaves what it cannot read to this view: a
        # body only Python's json accepts (NaN, Infinity, 1e999) must not execute here.
        return orjson.loads(data)


def _retry_budget(scope: Scope) -> int:
    retries: int = scope["app"].state.settings.resilience.retry_budget_per_request
    return retries


def _content_type(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


async def _send_json(
    send: Send, status: int, content: bytes, headers: dict[str, str] | None = None
) -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    """A send that adds `headers` to the response's start (the rate limit's RateLimit-*)."""
    extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


def _observed(send: Send, seen: Observation) -> Send:
    """A send that adds X-Request-Id and X-Trace-Id, and notes the status."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen.status = message["status"]
            message = {**message, "headers": [*message.get("headers", []), *seen.headers()]}
        await send(message)

    return sending


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over the body the guard read, then defers to the client."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
