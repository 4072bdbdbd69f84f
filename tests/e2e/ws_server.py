"""An in-process uvicorn `GracefulServer` over seeded real stores, with a tiny schema
whose subscriptions count up (`count`), flood the socket (`flood`) or overflow
(`overflow`), and a WebSocket client that speaks either protocol."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import jwt
import strawberry
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from domain.errors import SubscriptionOverflow
from domain.viewer import Role
from gateway.app import create_app
from gateway.embedded import free_port
from gateway.settings import AuthSettings, LimitSettings, Settings, WebSocketSettings
from gateway.websocket import GracefulServer
from resolvers.context import Context
from tests.e2e.conftest import Seeded

SECRET = "test-secret-for-websockets-0123456789abcdef"


@strawberry.type
class Query:
    @strawberry.field
    def role(self, info: strawberry.Info[Context, None]) -> str:
        return info.context.viewer.role.value


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, to: int = 3, delay: float = 0.01) -> AsyncGenerator[int, None]:
        for n in range(1, to + 1):
            yield n
            await asyncio.sleep(delay)

    @strawberry.subscription
    async def flood(self, size: int = 65536) -> AsyncGenerator[str, None]:
        """As fast as the socket takes them, forever: `size`-character strings."""
        chunk = "x" * size
        while True:
            yield chunk
            await asyncio.sleep(0)

    @strawberry.subscription
    async def overflow(self) -> AsyncGenerator[int, None]:
        yield 1
        raise SubscriptionOverflow("the subscriber fell too far behind")


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


def token(role: Role = Role.ADMIN, sub: str = "u1", secret: str = SECRET) -> str:
    claims = {"sub": sub, "role": role.value, "exp": int(time.time()) + 600}
    return jwt.encode(claims, secret, algorithm="HS256")


@asynccontextmanager
async def serving(
    seeded: Seeded, limits: LimitSettings | None = None, **websocket: Any
) -> AsyncIterator[tuple[str, GracefulServer]]:
    """The app on a free port: its ws:// URL and the server (set `should_exit` to stop)."""
    prefix = f"hiregraph:rate:{seeded.mongo_db}:ws"
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET),
        limits=limits or LimitSettings(rate_limit_key_prefix=prefix),
        websocket=WebSocketSettings(**websocket),
    )  # fmt: skip
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, schema=SCHEMA), host="127.0.0.1", port=port, log_level="warning"
    )
    server = GracefulServer(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.02)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", server
    finally:
        server.should_exit = True
        await task


async def connect(url: str, protocol: str, **kwargs: Any) -> ClientConnection:
    return await websockets.connect(url, subprotocols=[protocol], **kwargs)  # type: ignore[list-item]


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, seconds: float = 10) -> dict[str, Any]:
    async with asyncio.timeout(seconds):
        raw = await ws.recv()
    assert isinstance(raw, str), "protocol messages are text frames"
    message: dict[str, Any] = json.loads(raw)
    return message


async def receive_until(
    ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool], seconds: float = 10
) -> dict[str, Any]:
    """The first message `wanted` accepts (others, e.g. `next` of other operations, skipped)."""
    async with asyncio.timeout(seconds):
        while not wanted(message := await receive(ws)):
            pass
    return message


async def closed_with(ws: ClientConnection, seconds: float = 10) -> tuple[int, str]:
    """Read until the server closes: its close code and reason."""
    async with asyncio.timeout(seconds):
        with suppress(websockets.ConnectionClosed):
            while True:
                await ws.recv()
    frame = ws.protocol.close_rcvd
    assert frame is not None, "the server sent no close frame"
    return frame.code, frame.reason
