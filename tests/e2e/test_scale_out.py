"""Two gateway processes (A and B) and two `hiregraph worker`s over the same stores:
nothing a gateway serves may depend on which instance took the request. Caches, rate
counters, idempotency records and subscription fan-out all live in the stores."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest

from datasources.postgres.engine import asyncpg_dsn
from domain.viewer import Role, Viewer
from schema.ids import int_key
from tests.e2e.conftest import Seeded, shared_env, start_gateway, start_worker, stop_gateway
from tests.e2e.real_writes import CREATE_COMPANY, UPDATE_JOB
from tests.e2e.test_authz import SECRET, token_for
from tests.e2e.test_subscriptions import ADMIN, UPDATED, Writes, connect

pytestmark = pytest.mark.e2e

ANALYST_LIMIT = 5  # cost units per minute; a `{ __typename }` costs the minimum, 1
DETAIL = "query($id: ID!) { job(id: $id) { id title } }"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str


@pytest.fixture(scope="module")
def pair(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    limits = {role.value: "20000/minute" for role in Role} | {"ANALYST": f"{ANALYST_LIMIT}/minute"}
    env = shared_env(
        seeded,
        "scale",
        SECRET,
        HIREGRAPH_RESPONSE_CACHE__ENABLED="true",
        HIREGRAPH_CACHE__KEY_PREFIX=f"{seeded.cache_prefix}:scale{uuid.uuid4().hex[:6]}",
        HIREGRAPH_LIMITS__RATE_LIMITS=httpx.Response(200, json=limits).text,
        HIREGRAPH_LIMITS__RATE_LIMIT_KEY_PREFIX=f"hiregraph:rate:scale{uuid.uuid4().hex[:8]}",
        HIREGRAPH_LIMITS__RATE_LEASE_FRACTION="0",  # every unit spent in Redis, no lease
    )
    a, base_a = start_gateway(env, tmp_path_factory.mktemp("gw-a"))
    b, base_b = start_gateway(env, tmp_path_factory.mktemp("gw-b"))
    workers = [start_worker(env, tmp_path_factory.mktemp(f"worker-{n}")) for n in (1, 2)]
    try:
        yield Pair(base_a, base_b)
    finally:
        for proc in (*workers, a, b):
            stop_gateway(proc)


@pytest.fixture
async def writes(pair: Pair, seeded: Seeded) -> AsyncIterator[Writes]:
    """Mutations through A, as an admin; the companies created are deleted afterwards."""
    async with Writes.through(pair.a, seeded) as w:
        yield w


async def _post(base: str, query: str, viewer: Viewer | None = None, **kw: Any) -> httpx.Response:
    headers = kw.pop("headers", {})
    if viewer is not None:
        headers["authorization"] = f"Bearer {token_for(viewer)}"
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        return await http.post("/graphql", json={"query": query, "variables": kw}, headers=headers)


async def _title(base: str, job: str, viewer: Viewer | None) -> tuple[str, httpx.Response]:
    response = await _post(base, DETAIL, viewer, id=job)
    assert response.status_code == 200, response.text
    title: str = response.json()["data"]["job"]["title"]
    return title, response


@pytest.mark.parametrize("viewer", [None, ADMIN], ids=["response-cache", "entity-cache"])
async def test_a_write_through_a_is_served_by_b_at_once(
    pair: Pair, writes: Writes, seeded: Seeded, viewer: Viewer | None
) -> None:
    """B caches the job (the whole response for the public, the entity for an admin);
    a change B is not told about stays hidden, a mutation through A reaches B at once."""
    job = await writes.job(await writes.company(), publish=True)
    first, cold = await _title(pair.b, job, viewer)
    if viewer is None:
        assert cold.headers["cache-control"].startswith("public, max-age=")
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:  # behind every cache's back: B keeps serving what it cached
        await db.execute("UPDATE jobs SET title = 'Unseen' WHERE id = $1", int_key(job, "Job"))
    finally:
        await db.close()
    assert (await _title(pair.b, job, viewer))[0] == first
    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Renamed through A"})
    assert (await _title(pair.b, job, viewer))[0] == "Renamed through A"
    assert (await _title(pair.a, job, viewer))[0] == "Renamed through A"


async def test_a_rate_limit_is_one_budget_across_instances(pair: Pair) -> None:
    analyst = Viewer(Role.ANALYST, user_id=f"scale-{uuid.uuid4().hex[:8]}")
    remaining = []
    for n in range(ANALYST_LIMIT):
        response = await _post((pair.a, pair.b)[n % 2], "{ __typename }", analyst)
        assert response.status_code == 200, response.text
        remaining.append(int(response.headers["ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]  # one counter, whichever instance spent
    for base in (pair.b, pair.a):
        refused = await _post(base, "{ __typename }", analyst)
        assert refused.status_code == 429, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) >= 1
    other = Viewer(Role.ANALYST, user_id=f"scale-{uuid.uuid4().hex[:8]}")
    assert (await _post(pair.b, "{ __typename }", other)).status_code == 200


async def test_a_subscriber_on_b_receives_the_event_of_a_write_through_a(
    pair: Pair, writes: Writes
) -> None:
    job = await writes.job(await writes.company(), publish=True)
    async with connect(pair.b) as sub:
        await sub.subscribe("1", UPDATED, id=job)
        await asyncio.sleep(0.5)  # registered with B's hub before the write
        await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Heard on B"})
        got = await sub.payload()
        assert got["data"]["jobUpdated"] == {"id": job, "title": "Heard on B"}
        assert got["extensions"]["eventId"]


async def test_an_idempotent_retry_on_b_replays_what_a_answered(
    pair: Pair, writes: Writes, seeded: Seeded
) -> None:
    slug = f"scale-{uuid.uuid4().hex[:12]}"
    given = {"slug": slug, "name": f"Scale {slug}", "industry": "Software"}
    key = {"idempotency-key": f"scale-{uuid.uuid4().hex}"}
    first = await _post(pair.a, CREATE_COMPANY, ADMIN, headers=dict(key), input=given)
    assert first.status_code == 200, first.text
    company = first.json()["data"]["createCompany"]["company"]
    writes.companies.append(int_key(company["id"], "Company"))
    assert "idempotent-replayed" not in first.headers
    retry = await _post(pair.b, CREATE_COMPANY, ADMIN, headers=dict(key), input=given)
    assert retry.status_code == 200
    assert retry.content == first.content  # the stored bytes, not a second execution
    assert retry.headers["idempotent-replayed"] == "true"
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        assert await db.fetchval("SELECT count(*) FROM companies WHERE slug = $1", slug) == 1
    finally:
        await db.close()
    other = given | {"name": "Another name"}  # the same key for another request, on B
    reused = await _post(pair.b, CREATE_COMPANY, ADMIN, headers=dict(key), input=other)
    assert reused.status_code == 422, reused.text
    assert reused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
