"""Authorization per role over HTTP, through the real app on seeded stores.

Each viewer signs in as a client would: an HS256 bearer token whose claims name its
role (and company or candidate), verified by the gateway's authenticator. Facts about
the seed (which company has drafts, who applied where) are read as ADMIN first, so
the assertions hold for any seed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.settings import AuthSettings, CacheSettings, LimitSettings, Settings
from schema.ids import from_global_id, int_key
from tests.e2e.conftest import Seeded
from tests.e2e.test_read_graph import OPERATIONS, SIZES

pytestmark = pytest.mark.e2e
SECRET = "test-secret-for-authz-only-0123456789abcdef"
VIEWERS: dict[str, Viewer] = {"admin": Viewer(Role.ADMIN, user_id="admin")}
ANY_STATUS = {"status": ["OPEN", "DRAFT", "CLOSED"]}


def token_for(viewer: Viewer) -> str:
    claims: dict[str, Any] = {"sub": viewer.user_id, "role": viewer.role.value,
                              "exp": int(time.time()) + 600}  # fmt: skip
    if viewer.company_id is not None:
        claims["company_id"] = viewer.company_id
    if viewer.candidate_id is not None:
        claims["candidate_id"] = viewer.candidate_id
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
async def client(seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, expose_round_trips=True, gc_gen0_threshold=0,
        auth=AuthSettings(jwt_secret=SECRET),
        # Round trips are counted here: a cache call must not time out on a machine busy
        # with other tests (a timeout skips Redis for a while, and changes the count).
        cache=CacheSettings(key_prefix=f"{seeded.cache_prefix}:authz", redis_timeout_seconds=2),
        # These checks read whole companies (100 jobs x 100 applications): budgets and
        # rate limits are not what they test (tests/e2e/test_security.py does).
        limits=LimitSettings(
            cost_budgets=dict.fromkeys(Role, 100_000),
            rate_limits=dict.fromkeys(Role, "100000000/minute"),
        ),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield http


async def ask(http: httpx.AsyncClient, who: str, query: str, **variables: Any) -> dict[str, Any]:
    viewer = VIEWERS.get(who)
    headers = {} if viewer is None else {"authorization": f"Bearer {token_for(viewer)}"}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in connection["edges"]]


@dataclass(frozen=True)
class Company:
    """One company's rows as ADMIN sees them."""

    id: str  # global id
    jobs: list[dict[str, Any]]  # {id, status, applications {totalCount, edges}}

    @property
    def pk(self) -> int:
        return int_key(self.id, "Company")

    @property
    def applicants(self) -> set[str]:
        return {
            a["candidate"]["id"]
            for j in self.jobs
            for a in _nodes(j["applications"])
            if a["candidate"]
        }

    @property
    def application_ids(self) -> set[str]:
        return {a["id"] for j in self.jobs for a in _nodes(j["applications"])}

    def with_status(self, status: str) -> list[dict[str, Any]]:
        return [j for j in self.jobs if j["status"] == status]


COMPANY = """query($id: ID!, $f: JobFilter) { company(id: $id) { id jobs(first: 100, filter: $f) {
    edges { node { id status applications(first: 100) { totalCount
      edges { node { id candidate { id } } } } } } } } }"""


async def _company(http: httpx.AsyncClient, gid: str) -> Company:
    body = await ask(http, "admin", COMPANY, id=gid, f=ANY_STATUS)
    return Company(gid, _nodes(body["data"]["company"]["jobs"]))


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient) -> tuple[Company, Company]:
    """Two companies with applicants; the first also has a draft job."""
    drafts = await ask(client, "admin", "{ jobs(first: 100, filter: {status: [DRAFT]}) { "
                       "edges { node { company { id } } } } }")  # fmt: skip
    candidates = {n["company"]["id"] for n in _nodes(drafts["data"]["jobs"])}
    found = []
    for gid in sorted(candidates):
        company = await _company(client, gid)
        if company.applicants:
            found.append(company)
        if len(found) == 2:
            break
    assert len(found) == 2, "the seed has two companies with drafts and applicants"
    a, b = found
    VIEWERS["recruiter-a"] = Viewer(Role.RECRUITER, user_id="ra", company_id=a.pk)
    VIEWERS["recruiter-b"] = Viewer(Role.RECRUITER, user_id="rb", company_id=b.pk)
    VIEWERS["analyst"] = Viewer(Role.ANALYST, user_id="an")
    me = sorted(a.applicants - b.applicants)[0]
    VIEWERS["candidate"] = Viewer(
        Role.CANDIDATE, user_id="c", candidate_id=from_global_id(me, "Candidate")
    )
    return a, b


JOBS = """query($f: JobFilter) { jobs(first: 100, filter: $f) { totalCount
    edges { node { id status company { id } applications { totalCount } } } } }"""


async def test_public_sees_open_jobs_and_no_applications_or_profiles(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    a, _ = world
    body = await ask(client, "public", JOBS, f=ANY_STATUS)
    assert "errors" not in body
    jobs = body["data"]["jobs"]
    open_total = (await ask(client, "admin", JOBS))["data"]["jobs"]["totalCount"]
    assert jobs["totalCount"] == open_total  # drafts and closed jobs are not counted
    assert {j["status"] for j in _nodes(jobs)} == {"OPEN"}
    assert all(j["applications"]["totalCount"] == 0 for j in _nodes(jobs))
    draft, application = a.with_status("DRAFT")[0]["id"], sorted(a.application_ids)[0]
    query = """query($j: ID!, $a: ID!, $c: ID!) { job(id: $j) { id } application(id: $a) { id }
        candidate(id: $c) { name email } candidates(first: 5) { totalCount edges { cursor } } }"""
    body = await ask(client, "public", query, j=draft, a=application, c=sorted(a.applicants)[0])
    assert "errors" not in body  # hidden entities look missing: null, no error
    assert body["data"] == {
        "job": None, "application": None, "candidate": None,
        "candidates": {"totalCount": 0, "edges": []},
    }  # fmt: skip


async def test_recruiter_sees_own_company_only(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    a, b = world
    body = await ask(client, "recruiter-a", JOBS, f={"status": ["DRAFT"]})
    drafts = body["data"]["jobs"]
    assert {j["id"] for j in _nodes(drafts)} == {j["id"] for j in a.with_status("DRAFT")}
    assert drafts["totalCount"] == len(a.with_status("DRAFT"))
    # Their company's applications, counted and paged; none of the other company's.
    own, other = await asyncio.gather(
        ask(client, "recruiter-a", COMPANY, id=a.id, f=ANY_STATUS),
        ask(client, "recruiter-a", COMPANY, id=b.id, f=ANY_STATUS),
    )
    assert Company(a.id, _nodes(own["data"]["company"]["jobs"])) == a
    other_jobs = _nodes(other["data"]["company"]["jobs"])
    assert {j["status"] for j in other_jobs} == {"OPEN"}
    assert all(j["applications"] == {"totalCount": 0, "edges": []} for j in other_jobs)
    # Applicants' profiles, personal fields included; other companies' applicants: null.
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Candidate { id email } } }"""
    mine, theirs = sorted(a.applicants)[:3], sorted(b.applicants - a.applicants)[:3]
    body = await ask(client, "recruiter-a", query, ids=mine + theirs)
    assert "errors" not in body
    seen = body["data"]["nodes"]
    assert [n["id"] for n in seen[: len(mine)]] == mine
    assert all(n["email"] for n in seen[: len(mine)])
    assert seen[len(mine) :] == [None] * len(theirs)
    listed = await ask(client, "recruiter-a", "{ candidates(first: 100) { totalCount } }")
    assert listed["data"]["candidates"]["totalCount"] == len(a.applicants)


async def test_candidate_sees_own_profile_and_applications_only(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    a, b = world
    own_id = VIEWERS["candidate"].candidate_id
    me = next(c for c in a.applicants if from_global_id(c, "Candidate") == own_id)
    query = """query($c: ID!, $o: ID!) { me: candidate(id: $c) { email phone
        applications(first: 50) { totalCount edges { node { id } } } }
        other: candidate(id: $o) { name } jobs(first: 5) { edges { node { applications {
        totalCount } } } } }"""
    other = sorted(b.applicants - {me})[0]
    body = await ask(client, "candidate", query, c=me, o=other)
    assert "errors" not in body
    admin = await ask(client, "admin", query, c=me, o=other)
    assert body["data"]["me"] == admin["data"]["me"]
    assert body["data"]["other"] is None
    mine = {x["id"] for x in _nodes(body["data"]["me"]["applications"])}
    board = body["data"]["jobs"]["edges"]
    assert sum(e["node"]["applications"]["totalCount"] for e in board) <= len(mine)
    other_app = sorted(b.application_ids - mine)[0]
    one = "query($a: ID!) { application(id: $a) { id } }"
    hidden = await ask(client, "candidate", one, a=other_app)
    assert hidden["data"]["application"] is None


async def test_personal_fields_are_forbidden_but_the_rest_stays(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    query = """{ jobs(first: 2) { edges { node { title } } }
        candidates(first: 3) { edges { node { name email phone
          preferences { remote salaryExpectation { amount } } } } } }"""
    body = await ask(client, "analyst", query)
    people = _nodes(body["data"]["candidates"])
    assert len(people) == 3
    assert all(p["name"] and p["email"] is None and p["phone"] is None for p in people)
    assert all(p["preferences"]["salaryExpectation"] is None for p in people)
    assert len(body["data"]["jobs"]["edges"]) == 2
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    paths = {tuple(e["path"]) for e in body["errors"]}
    assert ("candidates", "edges", 0, "node", "email") in paths
    assert ("candidates", "edges", 2, "node", "preferences", "salaryExpectation") in paths
    admin = await ask(client, "admin", query)
    assert "errors" not in admin
    assert all(p["email"] for p in _nodes(admin["data"]["candidates"]))


async def test_admin_sees_everything(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    a, b = world
    body = await ask(client, "admin", JOBS, f={"status": ["DRAFT"]})
    companies = {j["company"]["id"] for j in _nodes(body["data"]["jobs"])}
    assert {a.id, b.id} <= companies
    query = "query($id: ID!) { candidate(id: $id) { id name email skills { name level } } }"
    gid = sorted(b.applicants)[0]
    profile = (await ask(client, "admin", query, id=gid))["data"]["candidate"]
    assert profile["id"] == gid
    assert profile["name"]
    assert "@" in profile["email"]
    assert all(1 <= s["level"] <= 5 for s in profile["skills"])


async def test_two_viewers_interleaved_see_only_their_own(
    client: httpx.AsyncClient, world: tuple[Company, Company]
) -> None:
    a, b = world
    query = """query($id: ID!, $f: JobFilter) { company(id: $id) { jobs(first: 100, filter: $f) {
        edges { node { status applications(first: 100) { totalCount edges { node { id
        candidate { id email } } } } } } } } }"""
    who = ["recruiter-a", "recruiter-b", "public", "admin"] * 3
    bodies = await asyncio.gather(
        *(ask(client, w, query, id=c.id, f=ANY_STATUS) for w in who for c in (a, b))
    )
    for i, body in enumerate(bodies):
        viewer, company = who[i // 2], (a, b)[i % 2]
        assert "errors" not in body, body["errors"]
        jobs = _nodes(body["data"]["company"]["jobs"])
        apps = {x["id"] for j in jobs for x in _nodes(j["applications"])}
        owns = viewer == "admin" or viewer == f"recruiter-{'ab'[i % 2]}"
        assert apps == (company.application_ids if owns else set()), (viewer, company.id)
        assert owns or {j["status"] for j in jobs} <= {"OPEN"}


@pytest.mark.parametrize("who", ["recruiter-a", "admin", "public"])
async def test_field_checks_are_batched(
    client: httpx.AsyncClient, seeded: Seeded, world: tuple[Company, Company], who: str
) -> None:
    a, b = world
    query = """query($n: Int!, $f: JobFilter) { jobs(first: $n, filter: $f) { edges {
        node { applications(first: 10) { totalCount edges { node { candidate {
        name email phone attributes } } } } } } } }"""
    f = {"companyIds": [a.id, b.id], "status": ["OPEN", "CLOSED"]}
    trips = []
    for n in (5, 40):
        await seeded.drop_entity_cache(f"{seeded.cache_prefix}:authz")  # counted cold
        body = await ask(client, who, query, n=n, f=f)
        assert "errors" not in body, body["errors"]
        trips.append(body["extensions"]["roundTrips"])
        people = [
            x for e in body["data"]["jobs"]["edges"] for x in _nodes(e["node"]["applications"])
        ]
        assert bool(people) == (who != "public")
    assert trips[0] == trips[1]
    # Jobs, application pages, counts, and (recruiters) the companies each applicant
    # applied to, which also answers the personal-field check; one profile batch.
    assert trips[1]["postgres"] <= 4
    assert trips[1]["mongo"] <= 1


@pytest.mark.parametrize(("name", "query", "bound"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
async def test_round_trips_as_admin_do_not_grow_with_page_size(
    client: httpx.AsyncClient, seeded: Seeded, name: str, query: str, bound: dict[str, int]
) -> None:
    """test_read_graph's operations run there as PUBLIC (no applications, no profiles);
    here as ADMIN, so every edge they select really loads."""
    trips = []
    for n in SIZES.get(name, (5, 40)):
        await seeded.drop_entity_cache(f"{seeded.cache_prefix}:authz")  # counted cold
        body = await ask(client, "admin", query, n=n)
        assert "errors" not in body, body["errors"]
        trips.append(body["extensions"]["roundTrips"])
    assert trips[0] == trips[1], name
    assert all(trips[1][store] <= most for store, most in bound.items()), trips[1]
