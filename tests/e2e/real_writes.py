"""The real app over the seeded stores, for the mutation tests: a GraphQL client that
signs in as any viewer, and the rows a write leaves (jobs, applications, their history,
the outbox), read with asyncpg.

Every row a test writes belongs to a company created through `new_company` (a unique
slug), and `real_app` deletes those companies with their jobs, applications, history
and outbox rows afterwards, so the seeded companies other tests count stay as seeded.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson
from fastapi import FastAPI
from redis.asyncio import Redis

from datasources.postgres.engine import asyncpg_dsn
from domain.viewer import Role, Viewer
from gateway.app import create_app
from gateway.settings import AuthSettings, CacheSettings, LimitSettings, Settings
from schema.ids import int_key, to_global_id
from tests.e2e.conftest import Seeded
from tests.e2e.test_authz import SECRET, token_for

ADMIN = Viewer(Role.ADMIN, user_id="mut-admin")
ANALYST = Viewer(Role.ANALYST, user_id="mut-analyst")
_serial = itertools.count(1)

USER_ERROR = (
    "... on UserError { code message } ... on InvalidInput { fieldErrors { path message } }"
)
JOB = """job { id title status postedAt city country skills
    salary { min { amount } max { amount } currency } company { id name } }"""
JOB_RESULT = f"__typename ... on JobPayload {{ {JOB} }} {USER_ERROR}"
CREATE_COMPANY = f"""mutation($input: CreateCompanyInput!) {{ createCompany(input: $input) {{
    __typename ... on CompanyPayload {{ company {{ id slug name industry }} }} {USER_ERROR} }} }}"""
POST_JOB = f"""mutation($input: PostJobInput!) {{ postJob(input: $input) {{ {JOB_RESULT} }} }}"""
UPDATE_JOB = (
    f"""mutation($input: UpdateJobInput!) {{ updateJob(input: $input) {{ {JOB_RESULT} }} }}"""
)
PUBLISH_JOB = f"""mutation($id: ID!) {{ publishJob(input: {{id: $id}}) {{ {JOB_RESULT} }} }}"""
CLOSE_JOB = f"""mutation($id: ID!) {{ closeJob(input: {{id: $id}}) {{ {JOB_RESULT} }} }}"""


def recruiter(company_id: int, user: str = "mut-recruiter") -> Viewer:
    return Viewer(Role.RECRUITER, user_id=user, company_id=company_id)


def candidate(candidate_id: str) -> Viewer:
    return Viewer(
        Role.CANDIDATE, user_id=f"mut-candidate-{candidate_id}", candidate_id=candidate_id
    )


def job_input(company: str, **overrides: Any) -> dict[str, Any]:
    """A valid PostJobInput for the company with global id `company`."""
    return {
        "companyId": company, "title": f"Mutation Engineer {next(_serial)}",
        "description": "Writes through the gateway.", "location": "Lisbon, Portugal",
        "city": "Lisbon", "country": "pt", "remote": "HYBRID", "employmentType": "FULL_TIME",
        "seniority": "SENIOR", "salaryMin": 50_000, "salaryMax": 70_000,
        "salaryCurrency": "eur", "skills": ["Python", "postgres", "python"], **overrides,
    }  # fmt: skip


@dataclass(frozen=True)
class NewCompany:
    id: str  # global id
    pk: int
    name: str


@dataclass
class Real:
    app: FastAPI
    http: httpx.AsyncClient
    db: asyncpg.Connection
    companies: list[int] = field(default_factory=list)  # created here: deleted at the end

    async def post(
        self, query: str, viewer: Viewer | None = ADMIN, headers: dict[str, str] | None = None,
        **variables: Any,
    ) -> httpx.Response:  # fmt: skip
        sent = dict(headers or {})
        if viewer is not None:
            sent["authorization"] = f"Bearer {token_for(viewer)}"
        body = {"query": query, "variables": variables}
        return await self.http.post("/graphql", json=body, headers=sent)

    async def ask(self, query: str, viewer: Viewer | None = ADMIN, **variables: Any) -> Any:
        """The `data` of a 200 response without GraphQL errors."""
        response = await self.post(query, viewer, **variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def mutate(self, query: str, viewer: Viewer | None = ADMIN, **variables: Any) -> Any:
        """The one mutation's result (a payload or a user error), checked not cacheable."""
        response = await self.post(query, viewer, **variables)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert "errors" not in body, body["errors"]
        (result,) = body["data"].values()
        return result

    async def new_company(self) -> NewCompany:
        slug = f"mut-{uuid.uuid4().hex[:12]}"
        company = {"slug": slug, "name": f"Mutations {slug[4:]}", "industry": "Software"}
        created = await self.mutate(CREATE_COMPANY, ADMIN, input=company)
        assert created["__typename"] == "CompanyPayload", created
        gid = created["company"]["id"]
        self.companies.append(int_key(gid, "Company"))
        return NewCompany(gid, int_key(gid, "Company"), company["name"])

    async def post_job(self, company: NewCompany, *, publish: bool = False) -> tuple[str, int]:
        """(global id, key) of a job posted by ADMIN for `company`."""
        posted = await self.mutate(POST_JOB, ADMIN, input=job_input(company.id, publish=publish))
        assert posted["__typename"] == "JobPayload", posted
        gid = posted["job"]["id"]
        return gid, int_key(gid, "Job")

    async def outbox(self, aggregate_type: str, aggregate_id: object) -> list[tuple[str, Any]]:
        """(event type, payload) of an aggregate's outbox rows, in order."""
        rows = await self.db.fetch(
            "SELECT event_type, payload FROM outbox WHERE aggregate_type = $1"
            " AND aggregate_id = $2 ORDER BY id",
            aggregate_type, str(aggregate_id),
        )  # fmt: skip
        return [(r["event_type"], orjson.loads(r["payload"])) for r in rows]

    async def last_outbox_id(self) -> int:
        found: int = await self.db.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        return found

    async def job_row(self, job_id: int) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self.db.fetchrow(
            "SELECT * FROM jobs WHERE id = $1", job_id
        )
        return row

    @property
    def cache_hits(self) -> int:
        hits: int = self.app.state.cache_stats.hits
        return hits


def settings_for(seeded: Seeded, prefix: str) -> Settings:
    return Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET),
        # The entity cache, the result cache and the response cache are all on (defaults).
        cache=CacheSettings(key_prefix=prefix, redis_timeout_seconds=2),
        limits=LimitSettings(rate_limit_key_prefix=f"{prefix}:rate"),
    )  # fmt: skip


@asynccontextmanager
async def real_app(seeded: Seeded, name: str) -> AsyncIterator[Real]:
    """The real app (its lifespan, every cache on) under a key prefix of its own."""
    prefix = f"{seeded.cache_prefix}:{name}"
    app = create_app(settings_for(seeded, prefix))
    db = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    real: Real | None = None
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hg") as http:
                real = Real(app, http, db)
                yield real
    finally:
        if real is not None:
            await _delete_created(db, real.companies)
        await db.close()
        await _drop_keys(seeded.redis_url, prefix)


async def _delete_created(db: asyncpg.Connection, companies: list[int]) -> None:
    """The companies, their jobs, applications (history cascades), outbox rows and the
    idempotency keys of this module's viewers."""
    async with db.transaction():
        jobs = [r["id"] for r in await db.fetch(
            "SELECT id FROM jobs WHERE company_id = ANY($1::bigint[])", companies)]  # fmt: skip
        apps = [r["id"] for r in await db.fetch(
            "SELECT id FROM applications WHERE job_id = ANY($1::bigint[])", jobs)]  # fmt: skip
        for kind, ids in (("Company", companies), ("Job", jobs), ("Application", apps)):
            await db.execute(
                "DELETE FROM outbox WHERE aggregate_type = $1 AND aggregate_id = ANY($2::text[])",
                kind, [str(i) for i in ids],
            )  # fmt: skip
        await db.execute("DELETE FROM applications WHERE id = ANY($1::bigint[])", apps)
        await db.execute("DELETE FROM jobs WHERE id = ANY($1::bigint[])", jobs)
        await db.execute("DELETE FROM companies WHERE id = ANY($1::bigint[])", companies)
        await db.execute("DELETE FROM idempotency_keys WHERE viewer LIKE 'user:mut-%'")


async def _drop_keys(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def gid(type_name: str, key: object) -> str:
    return to_global_id(type_name, key)
