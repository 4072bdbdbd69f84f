"""GraphQL subscriptions over graphql-transport-ws against real gateway processes.

Three gateways (A, B, and C with a subscription queue of 2) and a `worker --no-consumers`
relaying the outboxes to Redis Streams, all under a broker namespace of this module's
own. Mutations go through A over HTTP; subscribers listen on A or B.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import websockets
from pymongo import AsyncMongoClient
from redis import Redis as SyncRedis

from datasources.events.broker import BrokerOptions, Names, create_event_broker
from datasources.postgres.engine import asyncpg_dsn
from domain.events import JOB_POSTED, DomainEvent
from domain.viewer import Role, Viewer
from schema.ids import int_key, to_global_id
from tests.e2e.conftest import (
    NODE_DIR,
    Seeded,
    shared_env,
    start_gateway,
    start_worker,
    stop_gateway,
)
from tests.e2e.real_writes import (
    CREATE_COMPANY,
    POST_JOB,
    PUBLISH_JOB,
    UPDATE_JOB,
    _delete_created,
    job_input,
    recruiter,
)
from tests.e2e.test_authz import SECRET, token_for

pytestmark = pytest.mark.e2e

ADMIN = Viewer(Role.ADMIN, user_id="subs-admin")
JOB_FIELDS = "id title status company { id name }"
APPLY = """mutation($input: ApplyToJobInput!) { applyToJob(input: $input) { __typename
    ... on ApplicationPayload { application { id } } } }"""
QUIET = 1.5  # seconds a subscriber must stay silent to count as "not received"


@dataclass(frozen=True)
class Cluster:
    a: str
    b: str
    c: str  # subscription queues of 2 events
    namespace: str
    redis_url: str


@pytest.fixture(scope="module")
def cluster(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = shared_env(seeded, "subs", SECRET)
    namespace = env["HIREGRAPH_BROKER__NAMESPACE"]
    a, base_a = start_gateway(env, tmp_path_factory.mktemp("gw-a"))
    b, base_b = start_gateway(env, tmp_path_factory.mktemp("gw-b"))
    env_c = {**env, "HIREGRAPH_SUBSCRIPTIONS__QUEUE_SIZE": "2"}
    c, base_c = start_gateway(env_c, tmp_path_factory.mktemp("gw-c"))
    worker = start_worker(env, tmp_path_factory.mktemp("worker"), "--no-consumers")
    try:
        yield Cluster(base_a, base_b, base_c, namespace, seeded.redis_url)
    finally:
        for proc in (worker, a, b, c):
            stop_gateway(proc)
        client = SyncRedis.from_url(seeded.redis_url)
        client.delete(f"{namespace}.events")
        client.close()


class Client:
    """A graphql-transport-ws connection."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def subscribe(self, op_id: str, query: str, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))

    async def next(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
        return message

    async def payload(self) -> dict[str, Any]:
        """The next result: `data` and `extensions` (with the event's `eventId`)."""
        message = await self.next()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def data(self) -> dict[str, Any]:
        data: dict[str, Any] = (await self.payload())["data"]
        return data

    async def silent(self, seconds: float = QUIET) -> None:
        try:
            got = await asyncio.wait_for(self.ws.recv(), seconds)
        except TimeoutError:
            return
        pytest.fail(f"unexpected message {got}")


@asynccontextmanager
async def connect(base: str, viewer: Viewer | None = None) -> AsyncIterator[Client]:
    url = base.replace("http://", "ws://") + "/graphql"
    headers = {"authorization": f"Bearer {token_for(viewer)}"} if viewer else {}
    async with websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield Client(ws)


@dataclass
class Writes:
    """Mutations as an admin through one gateway; the companies created (and what hangs
    off them) are deleted when `through` ends."""

    http: httpx.AsyncClient
    companies: list[int]

    @staticmethod
    @asynccontextmanager
    async def through(base: str, seeded: Seeded) -> AsyncIterator[Writes]:
        async with httpx.AsyncClient(base_url=base, timeout=20) as http:
            w = Writes(http, [])
            yield w
        db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
        try:
            await _delete_created(db, w.companies)
        finally:
            await db.close()

    async def mutate(self, query: str, viewer: Viewer = ADMIN, **variables: Any) -> Any:
        headers = {"authorization": f"Bearer {token_for(viewer)}"}
        body = {"query": query, "variables": variables}
        response = await self.http.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        (result,) = response.json()["data"].values()
        return result

    async def company(self) -> str:
        slug = f"subs-{uuid.uuid4().hex[:12]}"
        given = {"slug": slug, "name": f"Subs {slug[5:]}", "industry": "Software"}
        gid: str = (await self.mutate(CREATE_COMPANY, input=given))["company"]["id"]
        self.companies.append(int_key(gid, "Company"))
        return gid

    async def job(self, company: str, *, publish: bool, **over: Any) -> str:
        posted = await self.mutate(POST_JOB, input=job_input(company, publish=publish, **over))
        assert posted["__typename"] == "JobPayload", posted
        gid: str = posted["job"]["id"]
        return gid


@pytest.fixture
async def writes(cluster: Cluster, seeded: Seeded) -> AsyncIterator[Writes]:
    async with Writes.through(cluster.a, seeded) as w:
        yield w


async def candidates(seeded: Seeded, client: AsyncMongoClient[dict[str, Any]]) -> list[str]:
    docs = client[seeded.mongo_db]["candidates"].find({}, {"_id": 1}).sort("_id").limit(2)
    return [str(d["_id"]) async for d in docs]


POSTED = f"subscription($f: JobFilter) {{ jobPosted(filter: $f) {{ {JOB_FIELDS} }} }}"


async def test_job_posted_crosses_instances_filtered_with_nested_fields(
    cluster: Cluster, writes: Writes
) -> None:
    wanted, other = await writes.company(), await writes.company()
    async with connect(cluster.b) as public:  # instance B; the writes go through A
        await public.subscribe("1", POSTED, f={"companyIds": [wanted]})
        await asyncio.sleep(0.5)  # the subscription is registered before the events
        await writes.job(other, publish=True)  # filtered out: another company
        draft = await writes.job(wanted, publish=False)  # a draft: PUBLIC never sees it
        await public.silent()
        await writes.mutate(PUBLISH_JOB, id=draft)  # now open: "posted" for the board
        job = (await public.data())["jobPosted"]
        assert job["id"] == draft
        assert job["status"] == "OPEN"
        assert job["company"]["id"] == wanted
        assert job["company"]["name"].startswith("Subs ")
        await public.silent()


UPDATED = """subscription($id: ID!, $after: String) {
  jobUpdated(id: $id, after: $after) { id title } }"""


async def test_job_updated_then_replayed_after_the_event_id_received(
    cluster: Cluster, writes: Writes, seeded: Seeded
) -> None:
    company = await writes.company()
    job = await writes.job(company, publish=True)
    async with connect(cluster.a) as sub:
        await sub.subscribe("1", UPDATED, id=job)
        await asyncio.sleep(0.5)
        await writes.mutate(UPDATE_JOB, input={"id": job, "title": "First title"})
        got = await sub.payload()
        assert got["data"]["jobUpdated"] == {"id": job, "title": "First title"}
        last = got["extensions"]["eventId"]  # what a client keeps to resume
    # Disconnected: two more updates are missed...
    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Second title"})
    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Third title"})
    await asyncio.sleep(1.0)  # relayed to the stream
    async with connect(cluster.b) as sub:  # ...and replayed after the last one seen, on B
        await sub.subscribe("1", UPDATED, id=job, after=last)
        replayed = [await sub.payload() for _ in range(2)]
        # Each replayed event reads the job as it is now.
        assert [p["data"]["jobUpdated"]["title"] for p in replayed] == ["Third title"] * 2
        ids = [p["extensions"]["eventId"] for p in replayed]
        outbox = await _event_ids(seeded, "Job", int_key(job, "Job"), "JobUpdated")
        assert outbox[0] == last
        assert ids == outbox[1:3]  # the events missed, in order, each with its own id
        await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Live title"})
        live = await sub.payload()
        assert live["data"]["jobUpdated"]["title"] == "Live title"
        assert live["extensions"]["eventId"] not in (last, *ids)


async def test_the_legacy_protocol_sends_the_same_event_id(
    cluster: Cluster, writes: Writes
) -> None:
    company = await writes.company()
    job = await writes.job(company, publish=True)
    url = cluster.a.replace("http://", "ws://") + "/graphql"
    async with (
        connect(cluster.b) as modern,
        websockets.connect(url, subprotocols=["graphql-ws"]) as legacy,  # type: ignore[list-item]
    ):
        await legacy.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await legacy.recv())["type"] == "connection_ack"
        payload = {"query": UPDATED, "variables": {"id": job}}
        await legacy.send(json.dumps({"type": "start", "id": "7", "payload": payload}))
        await modern.subscribe("1", UPDATED, id=job)
        await asyncio.sleep(0.5)
        await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Both protocols"})
        data = json.loads(await asyncio.wait_for(legacy.recv(), 20))
        assert data["type"] == "data", data
        assert data["payload"]["data"]["jobUpdated"]["title"] == "Both protocols"
        got = await modern.payload()
        assert data["payload"]["extensions"]["eventId"] == got["extensions"]["eventId"]


async def _event_ids(seeded: Seeded, kind: str, key: int, event_type: str) -> list[str]:
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        rows = await db.fetch(
            "SELECT event_id FROM outbox WHERE aggregate_type = $1 AND aggregate_id = $2"
            " AND event_type = $3 ORDER BY id",
            kind, str(key), event_type,
        )  # fmt: skip
    finally:
        await db.close()
    return [str(r["event_id"]) for r in rows]


SUBMITTED = """subscription($c: ID) { applicationSubmitted(companyId: $c) {
    id status job { id title } candidate { id } } }"""


async def test_application_submitted_only_to_viewers_who_may_see_it(
    cluster: Cluster,
    writes: Writes,
    seeded: Seeded,
    mongo_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    mine, theirs = await writes.company(), await writes.company()
    job = await writes.job(mine, publish=True)
    own = recruiter(int_key(mine, "Company"), "subs-rec-a")
    other = recruiter(int_key(theirs, "Company"), "subs-rec-b")
    who = (await candidates(seeded, mongo_client))[0]
    async with (
        connect(cluster.a, own) as allowed,
        connect(cluster.b, other) as refused,
        connect(cluster.a) as public,
    ):
        for client in (allowed, refused, public):
            await client.subscribe("1", SUBMITTED, c=mine)
        await asyncio.sleep(0.5)
        applicant = Viewer(Role.CANDIDATE, user_id=f"subs-{who}", candidate_id=who)
        given = {"jobId": job, "candidateId": to_global_id("Candidate", who), "source": "x"}
        applied = await writes.mutate(APPLY, applicant, input=given)
        assert applied["__typename"] == "ApplicationPayload", applied
        got = (await allowed.data())["applicationSubmitted"]
        assert got["id"] == applied["application"]["id"]
        assert got["job"]["id"] == job
        assert got["candidate"]["id"] == to_global_id("Candidate", who)
        await refused.silent()
        await public.silent(0.2)


async def test_exactly_one_argument_is_required(cluster: Cluster) -> None:
    query = "subscription { applicationSubmitted { id } }"
    async with connect(cluster.a, ADMIN) as sub:
        await sub.subscribe("1", query)
        message = await sub.next()
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_slow_consumer_is_disconnected_with_4429(cluster: Cluster, writes: Writes) -> None:
    company = await writes.company()
    job = await writes.job(company, publish=True)
    async with connect(cluster.c) as slow:  # C: at most 2 events queued per subscription
        await slow.subscribe("1", "subscription { jobPosted { id } }")
        await asyncio.sleep(0.5)
        broker = create_event_broker(
            cluster.redis_url, BrokerOptions(names=Names(cluster.namespace))
        )
        await broker.start()
        try:  # a burst, all in the stream before the gateway's next read
            key = str(int_key(job, "Job"))
            for _ in range(20):
                await broker.publish(DomainEvent(JOB_POSTED, key, {}))
        finally:
            await broker.stop()
        # The subscription overflows (SLOW_CONSUMER) and the transport closes the
        # connection with 4429 "slow consumer" (gateway/websocket_protocols.py).
        received: list[dict[str, Any]] = []

        async def read_until_closed() -> None:
            while True:
                received.append(await slow.next())

        with pytest.raises(websockets.exceptions.ConnectionClosedError) as closed:
            await read_until_closed()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4429, "slow consumer")
        # Never all 20: at most what was delivered before the queue overflowed, and the
        # same job is posted once.
        assert all(m["type"] == "next" for m in received), received
        assert len(received) <= 2


async def test_a_subscription_over_http_is_refused_and_never_cached(cluster: Cluster) -> None:
    body = {"query": "subscription { jobPosted { id } }"}
    async with httpx.AsyncClient(base_url=cluster.a, timeout=20) as http:
        for _ in range(2):  # the same answer twice: nothing was cached or compiled
            response = await http.post("/graphql", json=body)
            assert response.status_code != 200 or "errors" in response.json(), response.text
            assert "data" not in response.json() or not response.json()["data"], response.text
            got = await http.get("/graphql", params=body)
            assert got.status_code != 200 or "errors" in got.json(), got.text


async def _node_subscription(
    node: str, base: str, variables: dict[str, Any]
) -> tuple[asyncio.subprocess.Process, Any]:
    """The reference client subscribed to UPDATED (one result), once it is connected."""
    url = base.replace("http://", "ws://") + "/graphql"
    proc = await asyncio.create_subprocess_exec(
        node, str(NODE_DIR / "graphql_ws_subscribe.mjs"), url, token_for(ADMIN), UPDATED,
        json.dumps(variables), "1",
        cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert json.loads(line) == {"connected": True}, line
    await asyncio.sleep(0.7)  # the subscribe message follows the ack
    return proc, proc.stdout


async def _node_result(proc: asyncio.subprocess.Process, out: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await asyncio.wait_for(out.readline(), 30))
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return result


async def test_the_graphql_ws_client_reads_the_event_id_and_resumes_with_it(
    cluster: Cluster, writes: Writes, node: str
) -> None:
    company = await writes.company()
    job = await writes.job(company, publish=True)
    proc, out = await _node_subscription(node, cluster.a, {"id": job})
    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Node first"})
    first = await _node_result(proc, out)
    assert first["data"]["jobUpdated"]["title"] == "Node first"
    last = first["extensions"]["eventId"]
    await writes.mutate(UPDATE_JOB, input={"id": job, "title": "Node missed"})
    await asyncio.sleep(1.0)  # relayed to the stream
    proc, out = await _node_subscription(node, cluster.b, {"id": job, "after": last})
    resumed = await _node_result(proc, out)
    assert resumed["data"]["jobUpdated"]["title"] == "Node missed"
    assert resumed["extensions"]["eventId"] not in (None, last)
