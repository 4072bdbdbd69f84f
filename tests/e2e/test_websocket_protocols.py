"""Both WebSocket protocols through a real client against the app under real uvicorn:
operations, connection_init credentials, limits, keep-alive, idle timeout, graceful
shutdown and the slow-consumer close."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from domain.viewer import Role
from gateway.settings import LimitSettings
from tests.e2e.conftest import Seeded, start_gateway, stop_gateway
from tests.e2e.ws_server import (
    closed_with,
    connect,
    receive,
    receive_until,
    send,
    serving,
    token,
)

pytestmark = pytest.mark.e2e
TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"
COUNT = "subscription { count(to: 3) }"


async def init(ws: Any, payload: dict[str, Any] | None = None) -> None:
    await send(ws, {"type": "connection_init", **({} if payload is None else {"payload": payload})})
    assert (await receive(ws))["type"] == "connection_ack"


async def run_transport(ws: Any, op_id: str, query: str) -> list[dict[str, Any]]:
    """graphql-transport-ws: every message for `op_id` up to its complete or error."""
    await send(ws, {"id": op_id, "type": "subscribe", "payload": {"query": query}})
    messages = []
    while True:
        message = await receive_until(ws, lambda m: m.get("id") == op_id)
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


async def run_legacy(ws: Any, op_id: str, query: str) -> list[dict[str, Any]]:
    """graphql-ws: every message for `op_id` up to its complete or error."""
    await send(ws, {"id": op_id, "type": "start", "payload": {"query": query}})
    messages = []
    while True:
        message = await receive_until(ws, lambda m: m.get("id") == op_id)
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


async def test_graphql_transport_ws_runs_a_query_and_a_subscription(seeded: Seeded) -> None:
    async with serving(seeded) as (url, _), await connect(url, TRANSPORT) as ws:
        await init(ws)
        query = await run_transport(ws, "q", "{ role }")
        assert [m["type"] for m in query] == ["next", "complete"]
        assert query[0]["payload"] == {"data": {"role": "PUBLIC"}}
        counted = await run_transport(ws, "s", COUNT)
        assert [m["payload"]["data"]["count"] for m in counted[:-1]] == [1, 2, 3]
        assert counted[-1] == {"id": "s", "type": "complete"}


async def test_graphql_ws_runs_a_query_and_a_subscription(seeded: Seeded) -> None:
    async with serving(seeded) as (url, _), await connect(url, LEGACY) as ws:
        assert ws.subprotocol == LEGACY
        await init(ws)
        query = await run_legacy(ws, "q", "{ role }")
        assert [m["type"] for m in query] == ["data", "complete"]
        assert query[0]["payload"] == {"data": {"role": "PUBLIC"}}
        counted = await run_legacy(ws, "s", COUNT)
        assert [m["payload"]["data"]["count"] for m in counted[:-1]] == [1, 2, 3]
        assert counted[-1] == {"id": "s", "type": "complete"}


async def test_both_protocols_pass_operations_through_the_guard(seeded: Seeded) -> None:
    prefix = f"hiregraph:rate:{seeded.mongo_db}:ws-guard"
    limits = LimitSettings(max_aliases=1, rate_limit_key_prefix=prefix)
    aliased = "{ a: role b: role }"
    async with serving(seeded, limits) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws)
            [error] = await run_transport(ws, "1", aliased)
            assert error["type"] == "error"
            assert error["payload"][0]["extensions"]["code"] == "ALIAS_LIMIT"
        async with await connect(url, LEGACY) as ws:
            await init(ws)
            [error] = await run_legacy(ws, "1", aliased)
            assert error["type"] == "error"
            assert error["payload"]["extensions"]["code"] == "ALIAS_LIMIT"


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": f"Bearer {token(Role.ADMIN)}"},
        {"headers": {"AUTHORIZATION": f"Bearer {token(Role.ADMIN)}"}},
    ],
    ids=["top-level", "headers"],
)
async def test_connection_init_credentials_set_the_viewer(
    seeded: Seeded, payload: dict[str, Any]
) -> None:
    async with serving(seeded) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws, payload)
            [result, _] = await run_transport(ws, "1", "{ role }")
            assert result["payload"]["data"] == {"role": "ADMIN"}
        async with await connect(url, LEGACY) as ws:
            await init(ws, payload)
            [result, _] = await run_legacy(ws, "1", "{ role }")
            assert result["payload"]["data"] == {"role": "ADMIN"}


async def test_without_payload_credentials_the_upgrade_headers_apply(seeded: Seeded) -> None:
    headers = {"authorization": f"Bearer {token(Role.ANALYST)}"}
    async with (
        serving(seeded) as (url, _),
        await connect(url, TRANSPORT, additional_headers=headers) as ws,
    ):
        await init(ws, {})
        [result, _] = await run_transport(ws, "1", "{ role }")
        assert result["payload"]["data"] == {"role": "ANALYST"}


async def test_bad_connection_init_credentials_close_with_4403(seeded: Seeded) -> None:
    wrong = "not-the-secret-0123456789abcdef-0123456789"
    forged = {"authorization": f"Bearer {token(secret=wrong)}"}
    async with serving(seeded) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await send(ws, {"type": "connection_init", "payload": forged})
            assert (await closed_with(ws))[0] == 4403
        async with await connect(url, LEGACY) as ws:
            await send(ws, {"type": "connection_init", "payload": {"x-api-key": 42}})
            assert (await receive(ws))["type"] == "connection_error"
            assert (await closed_with(ws))[0] == 4403


async def test_connections_per_viewer_are_limited(seeded: Seeded) -> None:
    alice = {"authorization": f"Bearer {token(Role.ANALYST, sub='alice')}"}
    bob = {"authorization": f"Bearer {token(Role.ANALYST, sub='bob')}"}
    async with serving(seeded, max_connections_per_viewer=2) as (url, _):
        first, second = await connect(url, TRANSPORT), await connect(url, LEGACY)
        await init(first, alice)
        await init(second, alice)
        async with await connect(url, TRANSPORT) as third:
            await send(third, {"type": "connection_init", "payload": alice})
            assert await closed_with(third) == (4429, "too many connections")
        async with await connect(url, TRANSPORT) as other:
            await init(other, bob)  # another viewer is not affected
        await first.close()
        await asyncio.sleep(0.2)  # the server releases alice's slot
        async with await connect(url, TRANSPORT) as again:
            await init(again, alice)
        await second.close()


async def test_active_operations_per_connection_are_limited(seeded: Seeded) -> None:
    endless = "subscription { count(to: 100000, delay: 0.05) }"
    async with serving(seeded, max_subscriptions_per_connection=2) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws)
            for op_id in ("1", "2"):
                await send(ws, {"id": op_id, "type": "subscribe", "payload": {"query": endless}})
            await receive_until(ws, lambda m: m.get("id") == "2")
            [error] = await run_transport(ws, "3", endless)
            assert error["payload"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
            await send(ws, {"id": "1", "type": "complete"})  # frees a slot
            [result, _] = await run_transport(ws, "4", "{ role }")
            assert result["type"] == "next"
        async with await connect(url, LEGACY) as ws:
            await init(ws)
            for op_id in ("1", "2"):
                await send(ws, {"id": op_id, "type": "start", "payload": {"query": endless}})
            await receive_until(ws, lambda m: m.get("id") == "2")
            [error] = await run_legacy(ws, "3", endless)
            assert error["payload"]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"


async def test_keep_alive_messages_are_sent(seeded: Seeded) -> None:
    async with serving(seeded, keepalive_seconds=0.2) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws)
            assert await receive(ws, seconds=3) == {"type": "ping"}
            await send(ws, {"type": "pong"})
            assert await receive(ws, seconds=3) == {"type": "ping"}
        async with await connect(url, LEGACY) as ws:
            await init(ws)
            assert await receive(ws, seconds=3) == {"type": "ka"}


async def test_an_idle_connection_is_closed_with_4408(seeded: Seeded) -> None:
    async with serving(seeded, idle_timeout_seconds=0.5) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws)
            # An active subscription keeps the connection open past the idle timeout.
            [*_, done] = await run_transport(ws, "1", "subscription { count(to: 12, delay: 0.1) }")
            assert done["type"] == "complete"
            assert await closed_with(ws) == (4408, "idle")
        async with await connect(url, LEGACY) as ws:
            await init(ws)
            assert await closed_with(ws) == (4408, "idle")


async def test_graphql_ws_connection_init_timeout(seeded: Seeded) -> None:
    async with serving(seeded, connection_init_timeout_seconds=0.3) as (url, _):
        async with await connect(url, LEGACY) as ws:
            assert (await closed_with(ws))[0] == 4408
        async with await connect(url, TRANSPORT) as ws:
            assert (await closed_with(ws))[0] == 4408


async def test_shutdown_completes_subscriptions_and_closes_with_1001(seeded: Seeded) -> None:
    endless = "subscription { count(to: 100000, delay: 0.05) }"
    async with serving(seeded) as (url, server):
        transport, legacy = await connect(url, TRANSPORT), await connect(url, LEGACY)
        await init(transport)
        await init(legacy)
        await send(transport, {"id": "t", "type": "subscribe", "payload": {"query": endless}})
        await send(legacy, {"id": "l", "type": "start", "payload": {"query": endless}})
        await receive_until(transport, lambda m: m["type"] == "next")
        await receive_until(legacy, lambda m: m["type"] == "data")
        server.should_exit = True
        assert await receive_until(transport, lambda m: m["type"] != "next") == {
            "id": "t",
            "type": "complete",
        }
        assert await receive_until(legacy, lambda m: m["type"] != "data") == {
            "id": "l",
            "type": "complete",
        }
        assert (await closed_with(transport))[0] == 1001
        assert (await closed_with(legacy))[0] == 1001


async def test_a_slow_consumer_is_closed_with_4429(seeded: Seeded) -> None:
    async with serving(seeded) as (url, _):
        async with await connect(url, TRANSPORT) as ws:
            await init(ws)
            await send(ws, {"id": "1", "type": "subscribe",
                            "payload": {"query": "subscription { overflow }"}})  # fmt: skip
            assert (await receive(ws))["payload"]["data"] == {"overflow": 1}
            assert await closed_with(ws) == (4429, "slow consumer")
        async with await connect(url, LEGACY) as ws:
            await init(ws)
            await send(ws, {"id": "1", "type": "start",
                            "payload": {"query": "subscription { overflow }"}})  # fmt: skip
            assert (await receive(ws))["payload"]["data"] == {"overflow": 1}
            assert await closed_with(ws) == (4429, "slow consumer")


async def test_the_served_process_closes_websockets_with_1001_on_sigterm(
    seeded: Seeded, tmp_path: Path
) -> None:
    """`hiregraph serve` (a real process, SIGTERM): not uvicorn's own 1012."""
    proc, base = await asyncio.to_thread(start_gateway, seeded.env(), tmp_path)
    try:
        url = base.replace("http://", "ws://") + "/graphql"
        async with await connect(url, TRANSPORT) as transport, await connect(url, LEGACY) as legacy:
            await init(transport)
            await init(legacy)
            proc.terminate()
            assert (await closed_with(transport))[0] == 1001
            assert (await closed_with(legacy))[0] == 1001
    finally:
        assert await asyncio.to_thread(stop_gateway, proc) == 0
