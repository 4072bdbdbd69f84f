"""The limits in Settings are the ones both executors and Strawberry's validation apply."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import LimitSettings, Settings
from tests.factories import install_guard
from tests.unit.test_compiled import _data

# Eleven levels of fields with selections: over the default depth of 10.
DEEP = """{ jobs(first: 1) { edges { node { company { jobs(first: 1) { edges { node {
  company { jobs(first: 1) { edges { node { title } } } } } } } } } } } }"""


async def _post(settings: Settings, body: Any) -> httpx.Response:
    app = create_app(settings)
    app.state.datasources = _data()[0]
    install_guard(app, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/graphql", json=body)


@pytest.mark.parametrize("compiled", [True, False])
async def test_a_raised_depth_limit_is_honoured_by_every_layer(compiled: bool) -> None:
    default = await _post(Settings(compiled_operations=compiled), {"query": DEEP})
    assert default.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    raised = Settings(compiled_operations=compiled, limits=LimitSettings(max_depth=20))
    response = await _post(raised, {"query": DEEP})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["jobs"]["edges"][0]["node"]["company"]


async def test_batches_run_when_enabled_and_are_bounded() -> None:
    settings = Settings(limits=LimitSettings(batching_enabled=True, max_batch_operations=2))
    query = {"query": "{ jobs(first: 1) { totalCount } }"}
    response = await _post(settings, [query, query])
    assert response.status_code == 200
    assert [r["data"]["jobs"]["totalCount"] for r in response.json()] == [
        11,
        11,
    ]  # every open job of the fakes
    too_many = await _post(settings, [query] * 3)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["extensions"]["code"] == "BATCH_LIMIT"
    off = await _post(Settings(), [query])
    assert off.status_code == 400
    assert off.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"
