"""Protocol conformance: the reference `graphql-ws` npm client (graphql-transport-ws)
against the app under real uvicorn (tests/node/graphql_ws_client.mjs)."""

from __future__ import annotations

import asyncio
import json

import pytest

from domain.viewer import Role
from tests.e2e.conftest import NODE_DIR, Seeded
from tests.e2e.ws_server import serving, token

pytestmark = pytest.mark.e2e


async def test_the_graphql_ws_client_runs_a_query_and_a_subscription(
    seeded: Seeded, node: str
) -> None:
    wrong = token(secret="not-the-secret-0123456789abcdef-0123456789")
    async with serving(seeded, keepalive_seconds=0.2) as (url, _):
        proc = await asyncio.create_subprocess_exec(
            node, str(NODE_DIR / "graphql_ws_client.mjs"), url, token(Role.ADMIN), wrong,
            cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["query"] == [{"data": {"role": "ADMIN"}}]
    assert result["subscription"] == [{"data": {"count": n}} for n in range(1, 6)]
    assert result["pings"] >= 1
    assert result["refused"]["code"] == 4403
