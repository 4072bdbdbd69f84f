"""The entity cache through the real app: cold and warm responses are the same bytes,
and a viewer never sees what another viewer's request put in the cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.settings import AuthSettings, CacheSettings, Settings
from tests.e2e.conftest import Seeded
from tests.e2e.test_authz import SECRET, token_for

pytestmark = pytest.mark.e2e
ADMIN = Viewer(Role.ADMIN, user_id="admin")

BOARD = """query { jobs(first: 30, orderBy: POSTED_AT_DESC) { edges { node { id title location
    salary { min { amount currency } max { amount currency } } remote employmentType seniority
    skills postedAt company { id name industry size headquarters website foundedYear } } } } }"""
DETAIL = """query($id: ID!) { job(id: $id) { id title description status postedAt skills
    experienceMin experienceMax company { id slug name description createdAt updatedAt } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Job { title status }
    ... on Company { name } } }"""


@pytest.fixture(scope="module")
async def app_http(seeded: Seeded) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, expose_round_trips=False, gc_gen0_threshold=0,
        auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=f"{seeded.cache_prefix}:http"),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield http, app


async def post(
    http: httpx.AsyncClient, query: str, viewer: Viewer | None = None, **variables: Any
) -> bytes:
    headers = {} if viewer is None else {"authorization": f"Bearer {token_for(viewer)}"}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert b'"errors"' not in response.content, response.text
    return response.content


@pytest.mark.parametrize("viewer", [None, ADMIN], ids=["public", "admin"])
async def test_cold_and_warm_responses_are_byte_identical(
    app_http: tuple[httpx.AsyncClient, Any], seeded: Seeded, viewer: Viewer | None
) -> None:
    http, app = app_http
    await seeded.drop_entity_cache(f"{seeded.cache_prefix}:http")
    stats = app.state.cache_stats
    cold_board = await post(http, BOARD, viewer)
    first = httpx.Response(200, content=cold_board).json()["data"]["jobs"]["edges"][0]["node"]
    cold_detail = await post(http, DETAIL, viewer, id=first["id"])
    ids = [first["id"], first["company"]["id"]]
    cold_nodes = await post(http, NODES, viewer, ids=ids)
    hits = stats.hits
    assert await post(http, BOARD, viewer) == cold_board
    assert await post(http, DETAIL, viewer, id=first["id"]) == cold_detail
    assert await post(http, NODES, viewer, ids=ids) == cold_nodes
    assert stats.hits > hits  # the warm responses did come from the cache
    assert stats.redis_errors == 0
    scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert f"hiregraph_cache_hits_total {float(stats.hits)}" in scraped.text
    assert "hiregraph_cache_redis_errors_total 0.0" in scraped.text


async def test_a_draft_cached_by_an_admin_stays_hidden_from_the_public(
    app_http: tuple[httpx.AsyncClient, Any],
) -> None:
    http, app = app_http
    drafts = await post(
        http, "{ jobs(first: 1, filter: {status: [DRAFT]}) { edges { node { id } } } }", ADMIN
    )
    draft_id = httpx.Response(200, content=drafts).json()["data"]["jobs"]["edges"][0]["node"]["id"]
    seen = await post(http, DETAIL, ADMIN, id=draft_id)  # loaded by id: now in the cache
    assert b'"status":"DRAFT"' in seen
    hits = app.state.cache_stats.hits
    hidden = await post(http, DETAIL, None, id=draft_id)
    assert hidden == b'{"data":{"job":null}}'
    assert app.state.cache_stats.hits > hits  # it was a cache hit, and still hidden
