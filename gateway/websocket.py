"""GraphQL over WebSocket: graphql-transport-ws (primary) and the legacy graphql-ws.

Both protocols share one `Session` per connection:

- every operation passes the request guard (limits, cost, rate, trusted documents,
  introspection) for the connection's viewer, exactly as over HTTP;
- `connection_init` may carry credentials (`authorization` / `x-api-key`, at the top
  level or under `headers`, any case); they are checked by the HTTP `Authenticator`,
  and a connection without them keeps the upgrade request's viewer. Bad ones: 4403;
- at most `max_connections_per_viewer` acknowledged connections per viewer identity
  (API key, user, or else client IP) per process: the next is closed with 4429;
- at most `max_subscriptions_per_connection` in-flight operations: the next gets an
  `error` with code SUBSCRIPTION_LIMIT and the connection stays open;
- a keep-alive every `keepalive_seconds` (`ping` / `ka`), an idle close (4408) after
  `idle_timeout_seconds` with no operation and no client message, a connection_init
  timeout (4408), and a subscription that overflows its queue (`SubscriptionOverflow`)
  closes the connection with 4429 "slow consumer";
- a send that waits more than `send_timeout_seconds` (the client stopped reading, so its
  TCP window and the server's write buffer are full) drops the connection as a slow
  consumer too: its operations are cancelled at once (their queues freed), the 4429
  close frame gets as long again to go out, then the handler ends either way.

Open connections are kept in a `ConnectionRegistry` (`app.state.ws_connections`);
`close_all` completes their operations and closes them with 1001 (server going away).
"""

from __future__ import annotations

import asyncio
import socket
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import uvicorn
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types import ExecutionResult

from domain.errors import HireGraphError, SubscriptionOverflow, Unauthenticated
from domain.viewer import Viewer
from gateway.guard import Refused, RequestGuard
from gateway.observability import metrics
from gateway.settings_events import WebSocketSettings
from resolvers.context import Context

if TYPE_CHECKING:
    from gateway.graphql_app import GraphQLApp

VIEWER = "hiregraph.viewer"  # the guard's viewer, in the ASGI scope's state
CREDENTIALS = ("authorization", "x-api-key")
GOING_AWAY = 1001
SLOW_CONSUMER = (4429, "slow consumer")
Close = Callable[[int, str], Awaitable[None]]


class Connection(Protocol):
    async def go_away(self) -> None:
        """Complete every operation, then close with 1001."""


class ConnectionRegistry:
    """The process's open GraphQL WebSockets and acknowledged connections per viewer."""

    def __init__(self, max_per_viewer: int) -> None:
        self.max_per_viewer = max_per_viewer
        self._open: set[Connection] = set()
        self._per_identity: Counter[str] = Counter()
        self.dropped_slow = 0  # connections dropped because a send timed out
        _REGISTRIES.add(self)

    def __len__(self) -> int:
        return len(self._open)

    def opened(self, connection: Connection) -> None:
        if connection not in self._open:
            metrics.WS_CONNECTIONS.inc()
        self._open.add(connection)

    def closed(self, connection: Connection, identity: str | None) -> None:
        if connection in self._open:
            metrics.WS_CONNECTIONS.dec()
        self._open.discard(connection)
        if identity is not None:
            self._per_identity[identity] -= 1
            if self._per_identity[identity] <= 0:
                del self._per_identity[identity]

    def claim(self, identity: str) -> bool:
        """Count one more connection for `identity`; False when it is at the limit."""
        if self._per_identity[identity] >= self.max_per_viewer:
            return False
        self._per_identity[identity] += 1
        return True

    async def close_all(self) -> None:
        connections = list(self._open)
        await asyncio.gather(*(c.go_away() for c in connections), return_exceptions=True)


_REGISTRIES: weakref.WeakSet[ConnectionRegistry] = weakref.WeakSet()


async def close_all_connections() -> None:
    """Close every registry's connections in this process with 1001 (server shutdown)."""
    for registry in list(_REGISTRIES):
        await registry.close_all()


class GracefulServer(uvicorn.Server):
    """uvicorn, closing GraphQL WebSockets with 1001 (operations completed) before its
    own shutdown, which would drop them with 1012 before the app's lifespan ends."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await close_all_connections()
        await super().shutdown(sockets)


class TextFrames(ASGIWebSocketAdapter):
    """Protocol messages as text frames: both protocols are JSON over text (the view's
    orjson encoder returns bytes, which Strawberry would send as binary frames).

    A send waits at most `send_timeout` seconds (None: no limit); one that times out
    calls `on_stall` and reports the connection as gone."""

    send_timeout: float | None = None
    on_stall: Callable[[], None] | None = None

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            async with asyncio.timeout(self.send_timeout):
                await self.ws.send_text(orjson.dumps(message).decode())
        except TimeoutError as exc:
            if self.on_stall is not None:
                self.on_stall()
            raise WebSocketDisconnected from exc
        except (WebSocketDisconnect, RuntimeError) as exc:  # RuntimeError: already closed
            raise WebSocketDisconnected from exc


def credential_headers(payload: Mapping[str, object]) -> dict[str, str] | None:
    """The credentials a connection_init payload carries, under lower-case header names
    (top level or `headers`); None when it carries none."""
    nested = next((v for k, v in payload.items() if k.lower() == "headers"), None)
    sources = [payload, nested] if isinstance(nested, Mapping) else [payload]
    found: dict[str, str] = {}
    for source in sources:
        for key, value in source.items():
            name = str(key).lower()
            if name not in CREDENTIALS:
                continue
            if not isinstance(value, str):
                raise Unauthenticated(f"{name} must be a string")
            found[name] = value
    return found or None


def overflowed(result: ExecutionResult) -> bool:
    """Whether a subscription result reports that its queue overflowed."""
    return any(isinstance(e.original_error, SubscriptionOverflow) for e in result.errors or ())


def limit_error(limit: int) -> GraphQLError:
    return GraphQLError(
        f"at most {limit} operations may run at once on one connection",
        extensions={"code": "SUBSCRIPTION_LIMIT", "limit": limit},
    )


class Session:
    """One connection's state that both protocols share: viewer, registry slot, clocks."""

    def __init__(self, view: Any, context: Context, websocket: Any) -> None:
        self.view: GraphQLApp = view
        self.context = context
        self.request = context.request
        state = self.request.scope["app"].state
        self.settings: WebSocketSettings = state.settings.websocket
        self.guard: RequestGuard = state.guard
        self.registry: ConnectionRegistry = state.ws_connections
        self._close: Close = websocket.close
        if isinstance(websocket, TextFrames):
            websocket.send_timeout = self.settings.send_timeout_seconds
            websocket.on_stall = self.stalled
        self.identity: str | None = None
        self.started = self.last_seen = time.monotonic()
        self.closed = False
        self._handler: asyncio.Task[None] | None = None
        self._dropping: asyncio.Task[None] | None = None

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        with suppress(Exception):
            await self._close(code, reason)

    def stalled(self) -> None:
        """A send timed out: the client stopped reading. Drop the connection (once)."""
        if self._dropping is None:
            self.registry.dropped_slow += 1
            self._dropping = asyncio.create_task(self._drop_slow())

    async def _drop_slow(self) -> None:
        """End the handler (its operations are cancelled) once the 4429 close frame went
        out or could not within `send_timeout_seconds`."""
        with suppress(TimeoutError):
            async with asyncio.timeout(self.settings.send_timeout_seconds):
                await self.close(*SLOW_CONSUMER)
        if self._handler is not None:
            self._handler.cancel()

    async def init(self, payload: Mapping[str, object]) -> tuple[int, str] | None:
        """Authenticate connection_init and claim the viewer's slot: None when the
        connection may be acknowledged, else the close code and reason."""
        viewer = self.context.viewer
        try:
            headers = credential_headers(payload)
            if headers is not None:
                viewer = await self.guard.authenticator.viewer_for(headers)
        except HireGraphError:
            return 4403, "Forbidden"
        client = self.request.scope.get("client")
        identity = viewer.rate_identity or f"ip:{client[0] if client else '-'}"
        if not self.registry.claim(identity):
            return 4429, "too many connections"
        self.identity = identity
        if viewer != self.context.viewer:
            self._use_viewer(viewer)
        return None

    def _use_viewer(self, viewer: Viewer) -> None:
        self.request.scope["state"][VIEWER] = viewer
        self.context = self.view._context(self.request, self.context.response, viewer)

    async def refusal(
        self, query: str, name: str | None, variables: dict[str, Any] | None
    ) -> GraphQLError | None:
        """The guard's answer to one operation: None when it may run."""
        op = {"query": query, "operationName": name, "variables": variables}
        client = self.request.scope.get("client")
        try:
            await self.guard.check_operation(
                op, "WS", self.context.viewer, client[0] if client else None
            )
        except Refused as refused:
            error = refused.error
            extensions = {"code": error.code, **getattr(error, "extensions", {})}
            return GraphQLError(error.message, extensions=extensions)
        return None

    async def serve(
        self,
        connection: Any,
        handle: Callable[[], Coroutine[Any, Any, None]],
        ping: Callable[[], Awaitable[None]],
        acknowledged: Callable[[], bool],
        active: Callable[[], bool],
        init_timeout: float | None,
    ) -> None:
        """Run a protocol handler's `handle` with its registry slot held and `watch`
        running beside it; both are released however the connection ends."""
        self.registry.opened(connection)
        watch = asyncio.create_task(self.watch(ping, acknowledged, active, init_timeout))
        self._handler = asyncio.create_task(handle())
        try:
            await self._handler
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._dropping is None or (task is not None and task.cancelling()):
                raise  # not our slow-consumer drop: the connection's task was cancelled
        finally:
            self.closed = True
            for task in (watch, self._handler, self._dropping):
                if task is not None and task is not asyncio.current_task():
                    task.cancel()
                    with suppress(BaseException):
                        await task
            self.registry.closed(connection, self.identity)

    async def watch(
        self,
        ping: Callable[[], Awaitable[None]],
        acknowledged: Callable[[], bool],
        active: Callable[[], bool],
        init_timeout: float | None,
    ) -> None:
        """Keep-alive, idle timeout and (when `init_timeout`) connection_init timeout."""
        every = self.settings.keepalive_seconds
        next_ping = time.monotonic() + every
        while not self.closed:
            now = time.monotonic()
            init_at = None if init_timeout is None or acknowledged() else self.started
            if init_at is not None and now >= init_at + (init_timeout or 0):
                await self.close(4408, "Connection initialisation timeout")
                return
            if active():
                self.last_seen = now
            idle_at = self.last_seen + self.settings.idle_timeout_seconds
            if now >= idle_at:
                await self.close(4408, "idle")
                return
            if now >= next_ping:
                if acknowledged():
                    try:
                        await ping()
                    except WebSocketDisconnected:
                        return
                next_ping = now + every
            wake = min(next_ping, idle_at)
            if init_at is not None:
                wake = min(wake, init_at + (init_timeout or 0))
            await asyncio.sleep(max(wake - time.monotonic(), 0.01))
