"""Metrics, request ids, trace ids and logs through the real app over real stores."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.observability import logs
from gateway.settings import (
    AuthSettings,
    CacheSettings,
    LimitSettings,
    ResponseCacheSettings,
    Settings,
)
from gateway.settings_observability import ObservabilitySettings
from tests.e2e.conftest import Seeded
from tests.e2e.test_authz import SECRET, token_for

ADMIN = Viewer(Role.ADMIN, user_id="admin")
# Touches Postgres (jobs, companies, applications), Mongo (candidates) and Redis (the
# entity and result caches).
ALL_STORES = """query AllStores { jobs(first: 3) { edges { node { id title company { name }
  applications(first: 2) { edges { node { id candidate { id name } } } } } } }
  candidates(first: 2) { edges { node { id name } } } }"""
NOT_FOUND = "query Missing($id: ID!) { job(id: $id) { id title } }"


def settings_for(seeded: Seeded, **observability: Any) -> Settings:
    limits = LimitSettings(
        rate_limit_key_prefix=f"hiregraph:rate:{seeded.mongo_db}:obs",
        rate_limits={**LimitSettings().rate_limits, Role.PUBLIC: "40/minute"},
    )
    return Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, expose_round_trips=False, gc_gen0_threshold=0,
        auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=f"{seeded.cache_prefix}:obs"),
        response_cache=ResponseCacheSettings(enabled=False),  # every request executes
        limits=limits,
        observability=ObservabilitySettings(**observability),
    )  # fmt: skip


@pytest.fixture(scope="module")
async def app_http(seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(seeded, slow_operation_ms=60_000))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield http


@pytest.fixture
def log_lines() -> AsyncIterator[io.StringIO]:
    buffer = io.StringIO()
    logs.configure("INFO", buffer)
    yield buffer  # type: ignore[misc]
    structlog.reset_defaults()
    logs.configure("INFO")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


async def gql(
    http: httpx.AsyncClient, query: str, viewer: Viewer | None = None, **extra: Any
) -> httpx.Response:
    headers = {} if viewer is None else {"authorization": f"Bearer {token_for(viewer)}"}
    headers |= extra.pop("headers", {})
    return await http.post("/graphql", json={"query": query, **extra}, headers=headers)


async def test_a_known_set_of_operations_moves_the_counters_by_exactly_that(
    app_http: httpx.AsyncClient,
) -> None:
    before = samples((await app_http.get("/metrics")).text)
    for _ in range(3):
        ok = await gql(app_http, ALL_STORES, ADMIN)
        assert ok.status_code == 200
        assert "errors" not in ok.json(), ok.text
    missing = await gql(app_http, NOT_FOUND, ADMIN, variables={"id": "nope"})
    assert missing.json()["errors"], missing.text
    anonymous = await gql(app_http, "{ jobs(first: 1) { edges { node { id } } } }", ADMIN)
    assert anonymous.status_code == 200
    too_deep = "query Deep { " + "jobs(first: 1) { edges { node { company { " * 6 + "name"
    too_deep += " } } } }" * 6 + " }"
    rejected = await gql(app_http, too_deep, ADMIN)
    assert rejected.json()["errors"][0]["extensions"]["code"], rejected.text
    after = samples((await app_http.get("/metrics")).text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "hiregraph_http_requests_total"
    assert delta(requests, operation="AllStores", type="query", outcome="ok") == 3
    assert delta("hiregraph_http_request_duration_seconds_count",
                 operation="AllStores", type="query", outcome="ok") == 3  # fmt: skip
    # `job: null` and an error: data with errors is `partial`.
    assert delta(requests, operation="Missing", type="query", outcome="partial") == 1
    assert delta(requests, operation="anonymous", type="query", outcome="ok") == 1
    assert delta(requests, operation="Deep", type="query", outcome="rejected") == 1
    code = rejected.json()["errors"][0]["extensions"]["code"]
    assert delta("hiregraph_graphql_errors_total", operation="Deep", code=code) == 1
    missing_code = missing.json()["errors"][0]["extensions"]["code"]
    assert delta("hiregraph_graphql_errors_total", operation="Missing", code=missing_code) == 1
    assert delta("hiregraph_operation_cost_count", operation="AllStores") == 3
    assert delta("hiregraph_operation_cost_count", operation="Deep") == 0  # never admitted
    for store in ("postgres", "mongo", "redis"):
        count = delta("hiregraph_operation_round_trips_count", operation="AllStores", store=store)
        assert count == 3, store
    # Each store saw calls, each timed; loaders batched; the caches answered lookups.
    for store, operation in (("postgres", "SELECT"), ("redis", "cache")):
        calls = delta("hiregraph_store_calls_total", store=store, operation=operation, outcome="ok")
        timed = delta("hiregraph_store_call_duration_seconds_count", store=store,
                      operation=operation)  # fmt: skip
        assert calls >= 1, store
        assert calls == timed, (store, calls, timed)
    assert delta("hiregraph_dataloader_batch_size_count", loader="company") >= 1
    lookups = sum(delta("hiregraph_cache_lookups_total", layer="entities", result=r)
                  for r in ("hit", "miss"))  # fmt: skip
    assert lookups >= 3
    assert value(after, "hiregraph_pool_connections", pool="postgres_read", state="size") >= 1


async def test_round_trip_histogram_counts_the_stores_an_operation_used(
    app_http: httpx.AsyncClient,
) -> None:
    before = samples((await app_http.get("/metrics")).text)
    response = await gql(
        app_http, "query OneJob { jobs(first: 1) { edges { node { id } } } }", ADMIN
    )
    assert response.status_code == 200, response.text
    after = samples((await app_http.get("/metrics")).text)
    name = "hiregraph_operation_round_trips_bucket"
    # Mongo: no round trip, so its observation lands in the le="0.0" bucket.
    got = value(after, name, operation="OneJob", store="mongo", le="0.0")
    assert got - value(before, name, operation="OneJob", store="mongo", le="0.0") == 1


async def test_rate_limit_rejections_are_counted_by_viewer_kind(
    app_http: httpx.AsyncClient,
) -> None:
    before = samples((await app_http.get("/metrics")).text)
    statuses = [
        (await gql(app_http, "query Tiny { jobs(first: 1) { edges { node { id } } } }")).status_code
        for _ in range(25)  # cost 2 each: the 40-unit budget runs out at the 21st
    ]
    after = samples((await app_http.get("/metrics")).text)
    refused = statuses.count(429)
    assert refused >= 1, statuses
    name = "hiregraph_rate_limit_rejections_total"
    assert value(after, name, viewer_kind="public") - value(before, name, viewer_kind="public") == (
        refused
    )
    got = value(after, "hiregraph_http_requests_total", operation="Tiny", type="query",
                outcome="rejected")  # fmt: skip
    assert got - value(before, "hiregraph_http_requests_total", operation="Tiny", type="query",
                       outcome="rejected") == refused  # fmt: skip


async def test_request_and_trace_ids_come_back_and_errors_carry_the_trace_id(
    app_http: httpx.AsyncClient,
) -> None:
    response = await gql(app_http, NOT_FOUND, ADMIN, variables={"id": "x"},
                         headers={"x-request-id": "client-req.1"})  # fmt: skip
    assert response.headers["x-request-id"] == "client-req.1"
    trace_id = response.headers["x-trace-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert all(e["extensions"]["traceId"] == trace_id for e in response.json()["errors"])
    # A malformed request id is replaced; a W3C traceparent's trace id is kept.
    parent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    headers = {"x-request-id": "bad id<script>", "traceparent": parent}
    other = await gql(app_http, "{ __typename }", headers=headers)
    assert other.headers["x-request-id"] != "bad id"
    assert re.fullmatch(r"[0-9a-f]{32}", other.headers["x-request-id"])
    assert other.headers["x-trace-id"] == "ab" * 16
    # Refused by the guard (401): still both headers, and the trace id in the error.
    refused = await gql(app_http, "{ __typename }", headers={"authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["traceId"] == refused.headers["x-trace-id"]


async def test_log_lines_carry_the_request_fields_and_no_secrets(
    app_http: httpx.AsyncClient, log_lines: io.StringIO
) -> None:
    email, api_key = "jane.doe@example.com", "hgk_live_SUPERSECRET123"
    token = token_for(ADMIN)
    response = await gql(app_http, NOT_FOUND, ADMIN, variables={"id": email},
                         headers={"x-request-id": "log-test-1"})  # fmt: skip
    assert response.status_code == 200
    unknown_key = await gql(app_http, NOT_FOUND, variables={"id": email},
                            headers={"x-api-key": api_key})  # fmt: skip
    assert unknown_key.status_code == 401
    search = "query Search($q: String!) { jobs(first: 1, filter: {search: $q}) { totalCount } }"
    await gql(app_http, search, ADMIN, variables={"q": f"{email} {api_key}"})
    text = log_lines.getvalue()
    for secret in (email, api_key, token, "SUPERSECRET", "Bearer"):
        assert secret not in text
    lines = [orjson.loads(line) for line in text.splitlines()]
    ours = [line for line in lines if line.get("request_id") == "log-test-1"]
    assert len(ours) == 1
    line = ours[0]
    assert line["event"] == "graphql_request"
    assert line["level"] == "info"
    assert line["trace_id"] == response.headers["x-trace-id"]
    assert line["operation"] == "Missing"
    assert line["operation_type"] == "query"
    assert line["viewer_kind"] == "admin"
    assert line["outcome"] == "partial"
    assert line["duration_ms"] > 0
    assert line["error_codes"] == [response.json()["errors"][0]["extensions"]["code"]]
    assert [entry["outcome"] for entry in lines].count("rejected") == 1  # the unknown key
    assert set(line["round_trips"]) == {"postgres", "mongo", "redis"}
    assert "variables" not in line
    assert "query" not in line


async def test_a_slow_operation_logs_its_document_hash(seeded: Seeded) -> None:
    import hashlib

    buffer = io.StringIO()
    logs.configure("INFO", buffer)
    try:
        app = create_app(settings_for(seeded, slow_operation_ms=0.001, access_log=False))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
                await gql(http, ALL_STORES, ADMIN)
    finally:
        structlog.reset_defaults()
        logs.configure("INFO")
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["slow_operation"]  # access log off
    assert lines[0]["level"] == "warning"
    assert lines[0]["document_hash"] == hashlib.sha256(ALL_STORES.encode()).hexdigest()
    assert lines[0]["operation"] == "AllStores"
    assert lines[0]["cost"] > 0
