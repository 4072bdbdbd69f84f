"""The real gateway process over HTTP, on seeded real stores."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from datasources.postgres.engine import asyncpg_dsn
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded

pytestmark = pytest.mark.e2e

BOARD = "{ jobs(first: 5) { edges { node { title company { name } } } } }"


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_done_when_query_returns_seeded_jobs_with_companies(http: httpx.AsyncClient) -> None:
    body = await gql(http, BOARD)
    assert "errors" not in body
    edges = body["data"]["jobs"]["edges"]
    assert len(edges) == 5
    assert all(e["node"]["title"] and e["node"]["company"]["name"] for e in edges)


async def test_get_queries_work(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": BOARD})
    assert response.status_code == 200
    assert len(response.json()["data"]["jobs"]["edges"]) == 5


async def test_real_postings_are_served(http: httpx.AsyncClient) -> None:
    query = "query($slug: String!) { company(slug: $slug) { name industry } }"
    body = await gql(http, query, slug="weekday-ai")
    assert body["data"]["company"] == {"name": "Weekday AI", "industry": "HR Tech"}
    assert (await gql(http, query, slug="no-such-company"))["data"] == {"company": None}


async def test_anonymous_requests_are_public(http: httpx.AsyncClient, seeded: Seeded) -> None:
    """No authentication yet: the real server answers as PUBLIC, which sees no profile
    (tests/e2e/test_authz.py reads profiles as other viewers)."""
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    candidate_id = await conn.fetchval("SELECT candidate_id FROM applications ORDER BY id LIMIT 1")
    await conn.close()
    query = "query($id: ID!) { candidate(id: $id) { id name email skills { name level } } }"
    body = await gql(http, query, id=to_global_id("Candidate", candidate_id))
    assert "errors" not in body
    assert body["data"] == {"candidate": None}


async def test_paging_walks_the_board_without_overlap(http: httpx.AsyncClient) -> None:
    query = "query($after: String) { jobs(first: 50, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = (await gql(http, query, after=after))["data"]["jobs"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 150


async def test_bad_input_keeps_the_rest_of_the_response(http: httpx.AsyncClient) -> None:
    body = await gql(
        http,
        '{ ok: jobs(first: 1) { edges { cursor } } bad: candidate(id: "not-an-id") { name } }',
    )
    assert len(body["data"]["ok"]["edges"]) == 1
    assert body["data"]["bad"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["bad"]


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert set(body["stores"]) == {"postgres", "mongo", "redis"}
    assert all(s["status"] == "up" and s["latency_ms"] >= 0 for s in body["stores"].values())


async def test_graphiql_in_dev(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
