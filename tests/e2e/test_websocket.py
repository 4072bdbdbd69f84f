"""GraphQL over WebSocket (graphql-transport-ws) reaches the same schema and loaders."""

from __future__ import annotations

import json

import pytest
import websockets

pytestmark = pytest.mark.e2e


async def test_query_over_graphql_transport_ws(gateway: str) -> None:
    url = gateway.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        query = "{ jobs(first: 2) { edges { node { title company { name } } } } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "next"
        edges = message["payload"]["data"]["jobs"]["edges"]
        assert len(edges) == 2
        assert all(e["node"]["company"]["name"] for e in edges)
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}


async def test_operations_over_websocket_pass_the_same_limits(gateway: str) -> None:
    url = gateway.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        costly = """{ companies(first: 100) { edges { node {
            jobs(first: 100) { edges { node { title } } } } } } }"""
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": costly}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "COST_LIMIT"
        # The connection stays usable for an operation within the limits.
        cheap = {"query": "{ jobs(first: 1) { totalCount } }"}
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": cheap}))
        assert json.loads(await ws.recv())["type"] == "next"


async def test_a_websocket_with_bad_credentials_is_refused(gateway: str) -> None:
    url = gateway.replace("http://", "ws://") + "/graphql"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"x-api-key": "hg_nope_nope"},
        ):
            pass
