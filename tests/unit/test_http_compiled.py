"""/graphql over HTTP: compiled answers, and what they hand back to Strawberry, byte for byte."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.factories import install_guard
from tests.unit.test_compiled import CORPUS, _data


def _client(compiled: bool) -> httpx.AsyncClient:
    settings = Settings(compiled_operations=compiled, expose_round_trips=False)
    app = create_app(settings)
    app.state.datasources = _data()[0]  # the lifespan is not run: fakes stand in for stores
    install_guard(app, settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


# One trace id for both executors' requests: errors carry it in `extensions.traceId`.
TRACEPARENT = {"traceparent": "00-" + "0af7" * 8 + "-" + "b7ad" * 4 + "-01"}


async def _post(compiled: bool, **request: Any) -> httpx.Response:
    async with _client(compiled) as client:
        headers = {**TRACEPARENT, **request.pop("headers", {})}
        return await client.post("/graphql", headers=headers, **request)


@pytest.mark.parametrize(
    "body",
    [
        {"query": CORPUS[0]},
        {"query": "query Board { jobs(first: 3) { edges { node { title } } } }",
         "operationName": "Board"},
        {"query": "{ jobs(first: 1000) { totalCount } }"},  # BAD_USER_INPUT, via Strawberry
        {"query": "{ jobs { nope } }"},  # validation error, via Strawberry
        {"query": "query($n: Int!) { jobs(first: $n) { totalCount } }", "variables": {"n": "x"}},
        {"query": "{ jobs(first: 2) { totalCount } }", "variables": []},  # malformed request
    ],
)  # fmt: skip
async def test_same_response_with_and_without_compiled_operations(body: dict[str, Any]) -> None:
    fast, slow = await _post(True, json=body), await _post(False, json=body)
    assert (fast.status_code, fast.headers["content-type"]) == (
        slow.status_code,
        slow.headers["content-type"],
    )
    assert fast.content == slow.content


async def test_replayed_body_reaches_strawberry_intact() -> None:
    # Not JSON by its content type: Strawberry decides, with the body it was sent.
    content = b'{"query": "{ jobs(first: 1) { totalCount } }"}'
    headers = {"content-type": "text/plain"}
    fast = await _post(True, content=content, headers=headers)
    slow = await _post(False, content=content, headers=headers)
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    bad = await _post(True, content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400


async def test_errors_keep_their_codes_on_the_fallback() -> None:
    response = await _post(True, json={"query": '{ job(id: "bm9wZQ") { title } }'})
    body = response.json()
    assert body["data"] == {"job": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
