"""A client that stops reading (its TCP window fills, then the server's write buffer):
the send times out and the connection is dropped as a slow consumer, so neither the
connection nor its subscriptions outlive `send_timeout_seconds` by much."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets

from gateway.websocket import ConnectionRegistry
from tests.e2e.conftest import Seeded
from tests.e2e.ws_server import connect, receive, send, serving, token

pytestmark = pytest.mark.e2e

SEND_TIMEOUT = 2.0
FLOOD = {"query": "subscription { flood(size: 262144) }"}


def registry(server: Any) -> ConnectionRegistry:
    connections: ConnectionRegistry = server.config.app.state.ws_connections
    return connections


async def stop_reading(url: str) -> websockets.ClientConnection:
    """A client that subscribes to the flood and then reads nothing: with at most one
    frame queued, the websockets client stops reading from the socket. (No compression:
    permessage-deflate would shrink the flood to almost nothing.)"""
    ws = await connect(
        url, "graphql-transport-ws", max_queue=1, ping_interval=None, compression=None
    )
    await send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token()}"}})
    assert (await receive(ws))["type"] == "connection_ack"
    await send(ws, {"id": "1", "type": "subscribe", "payload": FLOOD})
    return ws


@asynccontextmanager
async def stalled_client(
    seeded: Seeded,
) -> AsyncIterator[tuple[ConnectionRegistry, websockets.ClientConnection]]:
    """A gateway with a short send timeout, and a client on it that stopped reading."""
    async with serving(seeded, send_timeout_seconds=SEND_TIMEOUT) as (url, server):
        yield registry(server), await stop_reading(url)


async def wait_for(test: Any, seconds: float) -> float:
    """Seconds until `test()` holds (fails after `seconds`): polls server-side state."""
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        while not test():  # noqa: ASYNC110 - nothing to wait on: the state is a counter
            await asyncio.sleep(0.02)
    return time.monotonic() - started


async def read_until_closed(ws: websockets.ClientConnection, seconds: float) -> int:
    """Frames read until the server closed the connection."""
    frames = 0
    async with asyncio.timeout(seconds):
        try:
            while True:
                await ws.recv()
                frames += 1
        except websockets.ConnectionClosed:
            return frames


async def test_a_client_that_stops_reading_gets_4429_once_it_reads_again(
    seeded: Seeded,
) -> None:
    async with stalled_client(seeded) as (connections, ws):
        try:
            # The buffers fill within seconds; the stalled send times out after SEND_TIMEOUT.
            await wait_for(lambda: connections.dropped_slow == 1, 30)
            # Reading again now, within the time the 4429 close frame has to go out.
            frames = await read_until_closed(ws, SEND_TIMEOUT + 10)
            close = ws.protocol.close_rcvd
            assert close is not None, "the server sent no close frame"
            assert (close.code, close.reason) == (4429, "slow consumer")
            assert frames > 0  # what was buffered before the stall, then the close
            await wait_for(lambda: len(connections) == 0, 5)
        finally:
            await ws.close()


async def test_a_client_that_never_reads_again_is_dropped_in_bounded_time(
    seeded: Seeded,
) -> None:
    async with stalled_client(seeded) as (connections, ws):
        try:
            await wait_for(lambda: len(connections) == 1, 5)
            stalled = await wait_for(lambda: connections.dropped_slow == 1, 30)
            # The close frame cannot go out either: SEND_TIMEOUT more, then it is gone.
            gone = await wait_for(lambda: len(connections) == 0, SEND_TIMEOUT + 5)
            assert gone >= SEND_TIMEOUT * 0.9, (stalled, gone)
        finally:
            ws.transport.abort()
