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
