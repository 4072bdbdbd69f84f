"""Each attack of the security issue, sent over HTTP, refused, and no store touched.

Most tests run the app in process over the in-memory fakes (`tests.factories`), whose
call log records every store call: a refused request must leave it empty. API keys,
trusted documents, the execution timeout and a dead Redis need the real lifespan over
the seeded stores (`seeded`, tests/e2e/conftest.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from datasources.postgres.api_keys import PgApiKeyRepository
from datasources.postgres.engine import asyncpg_dsn
from domain.api_keys import ApiKeySpec, document_hash
from domain.viewer import Role
from gateway.app import create_app
from gateway.embedded import free_port
from gateway.settings import AuthSettings, CacheSettings, LimitSettings, Settings
from schema.ids import to_global_id
from tests import factories as f
from tests.e2e.conftest import Seeded

pytestmark = pytest.mark.e2e

SECRET = "security-suite-secret-0123456789abcdef"  # >= 32 bytes, as prod requires
NOWHERE = {  # prod refuses embedded stores; without the lifespan nothing connects
    "postgres_url": "postgresql+asyncpg://x@127.0.0.1:1/x",
    "mongo_url": "mongodb://127.0.0.1:1",
    "redis_url": "redis://127.0.0.1:1/0",
}
JSON = {"content-type": "application/json"}

# Company 1 and 2; candidate 1 applied to company 2 only, candidate 2 to company 1 only.
APPLIED_TO_2, APPLIED_TO_1 = f.cid(1), f.cid(2)
COMPANY_2 = to_global_id("Company", 2)
BOARD = "{ jobs(first: 5) { edges { node { title } } } }"


def _datasources() -> tuple[Any, f.CallLog]:
    return f.fake_datasources(
        companies=[f.company(1), f.company(2)],
        jobs=[f.job(1, company_id=1), f.job(2, company_id=2)],
        candidates=[f.candidate(APPLIED_TO_2), f.candidate(APPLIED_TO_1)],
        applications=[
            f.application(1, job_id=2, candidate_id=APPLIED_TO_2),
            f.application(2, job_id=1, candidate_id=APPLIED_TO_1),
        ],
    )


def settings(env: str = "prod", **over: Any) -> Settings:
    stores = NOWHERE if env == "prod" else {}
    base: dict[str, Any] = {"env": env, "expose_round_trips": False, "gc_gen0_threshold": 0}
    return Settings(**{**base, **stores, "auth": AuthSettings(jwt_secret=SECRET), **over})


@dataclass
class Gateway:
    http: httpx.AsyncClient
    log: f.CallLog

    async def post(self, query: str, token: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return await self.http.post("/graphql", json={"query": query}, headers=headers, **kw)


@asynccontextmanager
async def gateway(s: Settings | None = None) -> AsyncIterator[Gateway]:
    """The app in process, over fakes (no lifespan): stores are the call log's fakes."""
    s = s or settings()
    app = create_app(s)
    app.state.datasources, log = _datasources()
    f.install_guard(app, s)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
        yield Gateway(http, log)


def token(role: Role = Role.PUBLIC, secret: str = SECRET, **claims: Any) -> str:
    body = {"sub": "u1", "role": role.value, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(body, secret, algorithm="HS256")


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response's single error's extensions, after checking status and code."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert "data" not in body or body["data"] is None, body
    assert body["errors"][0]["extensions"]["code"] == code, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


# -- static limits and cost ---------------------------------------------------------------


def _deep(depth: int) -> str:
    """A valid query `depth` selection levels deep: jobs > edges > node > company > ..."""
    path = ["jobs", "edges", "node"]
    while len(path) < depth:
        path += ["company", "jobs", "edges", "node"]
    path = path[:depth]
    return "{ " + " { ".join(path) + " { __typename" + " }" * depth + " }"


async def test_a_50_deep_query_is_refused_before_execution() -> None:
    async with gateway() as gw:
        allowed = await gw.post(_deep(10))  # the limit itself is fine
        assert allowed.status_code == 200
        assert "errors" not in allowed.json(), allowed.text
        gw.log.calls.clear()
        extensions = refused(await gw.post(_deep(50)), 200, "QUERY_TOO_DEEP")
    assert (extensions["actual"], extensions["limit"]) == (50, 10)
    assert gw.log.calls == []


async def test_100_aliases_are_refused() -> None:
    query = "{ " + " ".join(f"a{i}: jobs(first: 1) {{ totalCount }}" for i in range(100)) + " }"
    async with gateway() as gw:
        extensions = refused(await gw.post(query), 200, "ALIAS_LIMIT")
    assert (extensions["actual"], extensions["limit"]) == (100, 30)
    assert gw.log.calls == []


async def test_aliases_count_once_per_fragment_spread() -> None:
    fragment = "fragment F on Job { " + " ".join(f"t{i}: title" for i in range(20)) + " }"
    once = fragment + " { jobs(first: 1) { edges { node { ...F } } } }"
    twice = fragment + (
        ' { jobs(first: 1) { edges { node { ...F } } } job(id: "Sm9iOjE=") { ...F } }'
    )
    async with gateway() as gw:
        assert "errors" not in (await gw.post(once)).json()  # 20 aliases: admitted
        gw.log.calls.clear()
        extensions = refused(await gw.post(twice), 200, "ALIAS_LIMIT")
    assert extensions["actual"] == 40
    assert gw.log.calls == []


async def test_a_5000_directive_document_is_refused_by_its_token_count() -> None:
    query = "{ __typename" + " @include(if: true)" * 5000 + " }"
    async with gateway() as gw:
        refused(await gw.post(query), 200, "TOKEN_LIMIT")
    assert gw.log.calls == []


async def test_60_directives_are_refused() -> None:
    # No aliases (one field, merged), so the directive limit is the only one crossed.
    query = "{ jobs(first: 1) { " + "totalCount @include(if: true) " * 60 + "} }"
    async with gateway() as gw:
        extensions = refused(await gw.post(query), 200, "DIRECTIVE_LIMIT")
    assert (extensions["actual"], extensions["limit"]) == (60, 50)
    assert gw.log.calls == []


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (2, "Cannot spread fragment 'F0' within itself via 'F1'."),
        # graphql-core's validator recurses per spread; it catches its own RecursionError
        # (from a cycle of ~200) and reports this instead.
        (400, "Validation aborted."),
    ],
)
async def test_circular_fragments_fail_validation_without_crashing(
    length: int, message: str
) -> None:
    # F0 spreads F1 ... spreads F<length-1>, which spreads F0.
    fragments = " ".join(
        f"fragment F{i} on Job {{ id ...F{(i + 1) % length} }}" for i in range(length)
    )
    query = fragments + " { jobs(first: 1) { edges { node { ...F0 } } } }"
    async with gateway() as gw:
        response = await gw.post(query)
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert message in [e["message"] for e in errors]
    assert gw.log.calls == []


async def test_a_page_of_a_million_is_bad_input_and_reads_nothing() -> None:
    async with gateway() as gw:
        response = await gw.post("{ jobs(first: 1000000) { edges { node { title } } } }")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"jobs": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gw.log.calls == []


async def test_nested_pages_of_100_exceed_the_cost_budget() -> None:
    query = """{ companies(first: 100) { edges { node {
        jobs(first: 100) { edges { node { title } } } } } } }"""
    async with gateway() as gw:
        extensions = refused(await gw.post(query), 200, "COST_LIMIT")
    assert extensions["budget"] == 1000  # PUBLIC's default
    assert extensions["cost"] == 10_201 > extensions["budget"]
    assert gw.log.calls == []


# -- authentication -----------------------------------------------------------------------


def _unsigned() -> str:
    return jwt.encode({"sub": "u1", "role": "ADMIN", "exp": int(time.time()) + 300}, "", "none")


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(lambda: token(Role.ADMIN, exp=int(time.time()) - 3600), id="expired"),
        pytest.param(_unsigned, id="alg-none"),
        pytest.param(lambda: token(Role.ADMIN, secret="x" * 40), id="another-secret"),
    ],
)
async def test_unacceptable_tokens_are_401(bad_token: Any) -> None:
    async with gateway() as gw:
        response = await gw.post(BOARD, token=bad_token())
    refused(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert gw.log.calls == []


async def test_an_unknown_api_key_is_401() -> None:
    async with gateway() as gw:
        response = await gw.http.post(
            "/graphql", json={"query": BOARD}, headers={"x-api-key": "hg_0123456789abcdef_nope"}
        )
    refused(response, 401, "UNAUTHENTICATED")
    assert "ApiKey" in response.headers["www-authenticate"]
    assert gw.log.calls == []


# -- authorization ------------------------------------------------------------------------


async def test_a_recruiter_sees_none_of_another_companys_applicants() -> None:
    query = """query($c: ID!, $a: ID!, $p: ID!) {
      company(id: $c) { jobs(first: 10) { edges { node { id
        applications(first: 10) { totalCount edges { node { id candidate { email } } } } } } } }
      application(id: $a) { id }
      candidate(id: $p) { email } }"""
    variables = {
        "c": COMPANY_2,
        "a": to_global_id("Application", 1),
        "p": to_global_id("Candidate", APPLIED_TO_2),
    }
    recruiter = token(Role.RECRUITER, company_id=1)
    async with gateway() as gw:
        response = await gw.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {recruiter}"},
        )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    [job] = data["company"]["jobs"]["edges"]  # company 2's open job is public
    assert job["node"]["applications"] == {"totalCount": 0, "edges": []}
    assert data["application"] is None
    assert data["candidate"] is None
    assert "@example.com" not in response.text
    assert gw.log.count("applications.for_jobs") == 1  # it did ask, scoped to company 1


PROFILE = to_global_id("Candidate", APPLIED_TO_1)
CANDIDATE_EMAIL = f'{{ candidate(id: "{PROFILE}") {{ name email }} }}'


async def test_public_viewers_see_no_profile_at_all() -> None:
    query = CANDIDATE_EMAIL
    async with gateway() as gw:
        response = await gw.post(query)
    assert response.status_code == 200
    assert response.json() == {"data": {"candidate": None}}
    assert "@" not in response.text


async def test_an_analyst_gets_forbidden_for_email_and_the_rest_intact() -> None:
    query = CANDIDATE_EMAIL
    async with gateway() as gw:
        response = await gw.post(query, token=token(Role.ANALYST))
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"candidate": {"name": "Asha Rao", "email": None}}
    [error] = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["candidate", "email"], "FORBIDDEN")
    assert "@example.com" not in response.text


# -- transport ----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["mutation { x }", "subscription { x }"])
async def test_mutations_and_subscriptions_over_get_are_405(operation: str) -> None:
    async with gateway(settings("dev")) as gw:
        response = await gw.http.get("/graphql", params={"query": operation})
    refused(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"
    assert gw.log.calls == []


@pytest.mark.parametrize(
    "request_kw",
    [
        pytest.param({"data": {"query": BOARD}}, id="form"),
        pytest.param(
            {"content": f'{{"query": "{BOARD}"}}', "headers": {"content-type": "text/plain"}},
            id="text-plain",
        ),
        pytest.param({"files": {"operations": ("o.json", b"{}")}}, id="multipart"),
    ],
)
async def test_posts_a_page_could_send_cross_site_are_refused_in_prod(
    request_kw: dict[str, Any],
) -> None:
    async with gateway() as gw:
        refused(await gw.http.post("/graphql", **request_kw), 400, "CSRF_PREVENTION")
    assert gw.log.calls == []


async def test_get_needs_a_preflight_header_in_prod() -> None:
    async with gateway() as gw:
        bare = await gw.http.get("/graphql", params={"query": BOARD})
        refused(bare, 400, "CSRF_PREVENTION")
        assert gw.log.calls == []
        ok = await gw.http.get(
            "/graphql", params={"query": BOARD}, headers={"x-hiregraph-csrf": "1"}
        )
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["data"]["jobs"]["edges"]) == 2


INTROSPECTION = [
    "{ __schema { types { name } } }",
    '{ __type(name: "Candidate") { fields { name } } }',
    "fragment S on Query { __schema { queryType { name } } } "
    "{ jobs(first: 1) { totalCount } ...S }",
    "{ ... on Query { s: __schema { types { name } } } }",
]


@pytest.mark.parametrize("query", INTROSPECTION)
@pytest.mark.parametrize("role", [None, Role.PUBLIC, Role.RECRUITER, Role.ANALYST])
async def test_introspection_is_refused_in_prod_to_non_admins(query: str, role: Role) -> None:
    who = None if role is None else token(role, company_id=1)
    async with gateway() as gw:
        refused(await gw.post(query, token=who), 403, "INTROSPECTION_DISABLED")
    assert gw.log.calls == []


async def test_admins_may_introspect_in_prod() -> None:
    async with gateway() as gw:
        response = await gw.post(INTROSPECTION[0], token=token(Role.ADMIN))
    assert response.status_code == 200
    names = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"Candidate", "Job"} <= names


MISSPELT = "{ jobs { edges { node { titel } } } }"


@pytest.mark.parametrize(
    ("env", "role", "suggests"),
    [("prod", None, False), ("prod", Role.RECRUITER, False), ("prod", Role.ADMIN, True),
     ("dev", None, True)],
)  # fmt: skip
async def test_field_suggestions_only_outside_prod_or_to_admins(
    env: str, role: Role | None, suggests: bool
) -> None:
    who = None if role is None else token(role, company_id=1)
    async with gateway(settings(env)) as gw:
        response = await gw.post(MISSPELT, token=who)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot query field 'titel' on type 'Job'." in error["message"]
    assert ("Did you mean" in error["message"]) is suggests
    assert ("title" in error["message"].replace("titel", "")) is suggests
    assert gw.log.calls == []


async def test_rate_limit_refuses_with_429_and_headers() -> None:
    # "/day": the sliding window's boundary (midnight UTC) cannot fall inside the test.
    limits = LimitSettings(rate_limits=dict.fromkeys(Role, "200/day"))
    query = "{ jobs(first: 50) { edges { node { title } } } }"  # costs 51
    async with gateway(settings(limits=limits)) as gw:
        remaining = []
        for _ in range(3):
            ok = await gw.post(query)
            assert ok.status_code == 200, ok.text
            assert ok.headers["ratelimit-limit"] == "200"
            assert int(ok.headers["ratelimit-reset"]) > 0
            assert "retry-after" not in ok.headers
            remaining.append(int(ok.headers["ratelimit-remaining"]))
        assert remaining == [149, 98, 47]
        gw.log.calls.clear()
        response = await gw.post(query)
    extensions = refused(response, 429, "RATE_LIMITED")
    assert extensions["limit"] == 200
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "200"
    assert response.headers["ratelimit-remaining"] == "47"
    assert int(response.headers["ratelimit-reset"]) > 0
    assert gw.log.calls == []


async def test_a_body_over_the_limit_is_413() -> None:
    query = "{ jobs(first: 1) { totalCount } }" + " " * 2000
    async with gateway(settings(limits=LimitSettings(max_body_bytes=1024))) as gw:
        by_length = await gw.post(query)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as read
            for _ in range(4):
                yield b" " * 400

        streamed = await gw.http.post("/graphql", content=chunks(), headers=JSON)
    assert "content-length" in by_length.request.headers
    assert "content-length" not in streamed.request.headers
    for response in (by_length, streamed):
        assert refused(response, 413, "BODY_TOO_LARGE")["limit"] == 1024
    assert gw.log.calls == []


NESTED_100 = "{ companies(first: 100) { edges { node { jobs(first: 100) { totalCount } } } } }"


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(
            lambda http: http.post(
                "/graphql",
                content=b'{"query": "{ __schema { types { name } } }", "x": NaN}',
                headers=JSON,
            ),
            id="introspection-with-NaN",
        ),
        pytest.param(
            lambda http: http.post(
                "/graphql",
                content=b'{"query": "%s", "variables": {"x": 1e999}}' % NESTED_100.encode(),
                headers=JSON,
            ),
            id="over-budget-with-1e999",
        ),
        pytest.param(
            lambda http: http.get(
                "/graphql",
                params={"query": NESTED_100, "variables": '{"x": Infinity}'},
                headers={"x-hiregraph-csrf": "1"},
            ),
            id="get-with-Infinity",
        ),
    ],
)
async def test_json_the_guard_cannot_read_is_not_executed(send: Any) -> None:
    # Python's json accepts NaN, Infinity and 1e999, orjson (the guard's) does not: a
    # body the guard cannot read must not be executed by a more lenient parser.
    async with gateway() as gw:
        response = await send(gw.http)
    assert response.status_code == 400, response.text
    assert "Unable to parse" in response.text
    assert gw.log.calls == []


@pytest.mark.parametrize(
    "body",
    [
        {"query": NESTED_100, "operationName": 123},
        {"query": ["{ __typename }"]},
        {"query": NESTED_100, "variables": ["x"]},
    ],
)
async def test_fields_of_the_wrong_type_are_400_and_nothing_runs(body: dict[str, Any]) -> None:
    async with gateway() as gw:
        response = await gw.http.post("/graphql", json=body)
    refused(response, 400, "BAD_REQUEST")
    assert gw.log.calls == []


async def test_a_batch_is_refused_while_batching_is_off() -> None:
    async with gateway() as gw:
        response = await gw.http.post("/graphql", json=[{"query": BOARD}, {"query": BOARD}])
    refused(response, 400, "BATCHING_DISABLED")
    assert gw.log.calls == []


# -- the real app over seeded stores ------------------------------------------------------


def real_settings(seeded: Seeded, **over: Any) -> Settings:
    base: dict[str, Any] = {
        "env": "prod", "postgres_url": seeded.postgres_url, "mongo_url": seeded.mongo_url,
        "mongo_db": seeded.mongo_db, "redis_url": seeded.redis_url, "gc_gen0_threshold": 0,
        "auth": AuthSettings(jwt_secret=SECRET, api_key_cache_seconds=0),
        "limits": LimitSettings(rate_limit_key_prefix=f"hiregraph:rate:{seeded.mongo_db}:sec"),
        "cache": CacheSettings(key_prefix=f"{seeded.cache_prefix}:sec"),
    }  # fmt: skip
    return Settings(**{**base, **over})


@asynccontextmanager
async def real_gateway(s: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(s)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
            yield http


@asynccontextmanager
async def api_keys(seeded: Seeded) -> AsyncIterator[PgApiKeyRepository]:
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        yield PgApiKeyRepository(conn)
    finally:
        await conn.close()


async def _with_key(http: httpx.AsyncClient, key: str, query: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query}, headers={"x-api-key": key})


async def test_a_revoked_api_key_is_401_at_once(seeded: Seeded) -> None:
    async with api_keys(seeded) as repo, real_gateway(real_settings(seeded)) as http:
        key, plaintext = await repo.create(ApiKeySpec(name="revoke-me", role=Role.ANALYST))
        works = await _with_key(http, plaintext, BOARD)
        assert works.status_code == 200, works.text
        assert works.json()["data"]["jobs"]["edges"]
        await repo.revoke(key.id)
        response = await _with_key(http, plaintext, BOARD)
    refused(response, 401, "UNAUTHENTICATED")
    assert "ApiKey" in response.headers["www-authenticate"]


async def test_a_trusted_documents_key_runs_registered_documents_only(seeded: Seeded) -> None:
    spec = ApiKeySpec(name="partner", role=Role.ANALYST, trusted_documents_only=True)
    async with api_keys(seeded) as repo, real_gateway(real_settings(seeded)) as http:
        key, plaintext = await repo.create(spec)
        refused(await _with_key(http, plaintext, BOARD), 403, "PERSISTED_QUERY_REQUIRED")
        assert await repo.add_documents(key.id, [(document_hash(BOARD), "board")]) == 1
        registered = await _with_key(http, plaintext, BOARD)
        assert registered.status_code == 200, registered.text
        assert registered.json()["data"]["jobs"]["edges"]
        # The exact text is what is registered: one more space is another document.
        altered = await _with_key(http, plaintext, BOARD + " ")
    refused(altered, 403, "PERSISTED_QUERY_REQUIRED")


@pytest.mark.parametrize(
    ("query", "compiled"),
    [
        (BOARD, True),
        ("{ jobs(first: 5) { edges { node { title @include(if: true) } } } }", False),
    ],
)
async def test_execution_over_the_timeout_is_504(
    seeded: Seeded, query: str, compiled: bool
) -> None:
    s = real_settings(seeded, limits=LimitSettings(execution_timeout_seconds=1e-9))
    covered = create_app(s).graphql.compiled.program(query, None)  # type: ignore[attr-defined]
    assert (covered is not None) is compiled  # so both executors are under test
    async with real_gateway(s) as http:
        response = await http.post("/graphql", json={"query": query})
    extensions = refused(response, 504, "TIMEOUT")
    assert extensions["limit"] == 1e-9


async def test_the_gateway_answers_with_redis_down(
    seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    limits = LimitSettings(rate_limits=dict.fromkeys(Role, "100/day"))
    async with real_gateway(real_settings(seeded, redis_url=dead, limits=limits)) as http:
        first = await http.post("/graphql", json={"query": BOARD})
        assert first.status_code == 200, first.text
        assert len(first.json()["data"]["jobs"]["edges"]) == 5
        assert first.headers["ratelimit-remaining"] == "94"  # the board costs 6
        assert "Redis unavailable" in caplog.text
        scraped = (await http.get("/metrics")).text  # the fall-throughs are counted
        errors = next(x for x in scraped.splitlines() if x.startswith("hiregraph_cache_redis_e"))
        assert float(errors.split()[-1]) >= 1, scraped
        for _ in range(15):  # 16 x 6 = 96 of 100: still limited, in process memory
            assert (await http.post("/graphql", json={"query": BOARD})).status_code == 200
        refused(await http.post("/graphql", json={"query": BOARD}), 429, "RATE_LIMITED")
