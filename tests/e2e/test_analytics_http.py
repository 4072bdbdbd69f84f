"""`analytics` over HTTP through the real app on the seeded stores: answers against brute
force over the raw rows and documents, authorization per role, the response cache."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from datasources.mongo.bootstrap import CANDIDATES
from datasources.postgres.engine import asyncpg_dsn
from domain.analytics import percentile
from domain.viewer import Role
from gateway.app import create_app
from gateway.settings import (
    AnalyticsSettings,
    AuthSettings,
    CacheSettings,
    LimitSettings,
    Settings,
)
from schema.ids import to_global_id
from tests.e2e.conftest import Seeded

pytestmark = pytest.mark.e2e
SECRET = "analytics-suite-secret-0123456789abcdef"

JOB_STATS = """query S($g: [JobStatsGroupBy!]!, $f: JobFilter, $first: Int) { analytics {
  jobStats(groupBy: $g, filter: $f, first: $first) { companyId country skill currency count
    salary { count min max avg p50 p90 } } } }"""
SERIES = """query T($i: TimeInterval!, $from: DateTime!, $to: DateTime!) { analytics {
  postingsTimeseries(interval: $i, from: $from, to: $to) { start count } } }"""
FUNNEL = """query F($c: ID, $j: ID) { analytics { applicationFunnel(companyId: $c, jobId: $j) {
  total rejected withdrawn stages { status count conversion medianDays p90Days } } } }"""
CANDIDATE_STATS = """query C($g: [CandidateStatsGroupBy!]!) { analytics {
  candidateStats(groupBy: $g, first: 1000) { skill country yearsBucket count } } }"""
GAP = """query G($first: Int) { analytics { skillsGap(first: $first) {
  skill demand supply ratio medianSalary { currency median } } } }"""


def token(role: Role, **claims: Any) -> str:
    body = {"sub": f"u-{role.value}", "role": role.value, "exp": int(time.time()) + 600}
    return jwt.encode({**body, **claims}, SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
async def app(seeded: Seeded) -> AsyncIterator[FastAPI]:
    settings = Settings(
        postgres_url=seeded.postgres_url, mongo_url=seeded.mongo_url, mongo_db=seeded.mongo_db,
        redis_url=seeded.redis_url, gc_gen0_threshold=0, auth=AuthSettings(jwt_secret=SECRET),
        cache=CacheSettings(key_prefix=f"{seeded.cache_prefix}:analytics-{time.time_ns()}",
                            redis_timeout_seconds=2),
        limits=LimitSettings(rate_limits=dict.fromkeys(Role, "100000000/minute")),
        # A rollup another module's worker built is read only while nothing changed
        # since: then its figures are the live ones (test_analytics_rollup reads it stale).
        analytics=AnalyticsSettings(rollup_max_staleness_seconds=0),
    )  # fmt: skip
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hg") as client:
        yield client


async def post(
    http: httpx.AsyncClient, query: str, who: str | None = None, **variables: Any
) -> httpx.Response:
    headers = {} if who is None else {"authorization": f"Bearer {who}"}
    return await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def ask(http: httpx.AsyncClient, query: str, who: str | None, **v: Any) -> Any:
    response = await post(http, query, who, **v)
    assert response.status_code == 200, response.text
    return response.json()


ANALYST = token(Role.ANALYST)


@pytest.fixture(scope="module")
async def raw(seeded: Seeded) -> dict[str, Any]:
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        jobs = await conn.fetch(
            "SELECT id, company_id, country, skills, status::text AS status, posted_at,"
            " salary_min, salary_max, salary_currency::text AS currency FROM jobs"
        )
        apps = await conn.fetch(
            "SELECT a.candidate_id, a.status::text AS status, j.company_id"
            " FROM applications a JOIN jobs j ON j.id = a.job_id"
        )
    finally:
        await conn.close()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(seeded.mongo_url)
    try:
        docs = await client[seeded.mongo_db][CANDIDATES].find({}).to_list()
    finally:
        await client.close()
    return {"jobs": jobs, "apps": apps, "docs": docs}


def _salary(r: Any) -> float | None:
    lo, hi = r["salary_min"], r["salary_max"]
    if lo is not None and hi is not None:
        return float(lo + hi) / 2
    return float(lo) if lo is not None else (float(hi) if hi is not None else None)


def _near(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))
    )


async def test_job_stats_by_skill_and_country(http: httpx.AsyncClient, raw: dict[str, Any]) -> None:
    body = await ask(http, JOB_STATS, ANALYST, g=["SKILL", "COUNTRY"], first=1000)
    values: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in raw["jobs"]:
        if r["status"] != "open":
            continue
        for skill in r["skills"] or [None]:
            key = (skill, r["country"], r["currency"] and r["currency"].strip())
            counts[key] += 1
            if (s := _salary(r)) is not None:
                values[key].append(s)
    got = body["data"]["analytics"]["jobStats"]
    assert {(b["skill"], b["country"], b["currency"]): b["count"] for b in got} == dict(counts)
    for b in got:
        v = values[(b["skill"], b["country"], b["currency"])]
        s = b["salary"]
        assert s["count"] == len(v)
        assert _near(s["p50"], percentile(v, 0.5))
        assert _near(s["p90"], percentile(v, 0.9))
        assert _near(s["min"], min(v, default=None))


async def test_timeseries_counts_every_open_posting(
    http: httpx.AsyncClient, raw: dict[str, Any]
) -> None:
    posted = [r["posted_at"] for r in raw["jobs"] if r["status"] == "open"]
    start = min(posted).replace(hour=0, minute=0, second=0, microsecond=0)
    end = max(posted) + timedelta(days=1)
    v = {"i": "DAY", "from": start.isoformat(), "to": end.isoformat()}
    body = await ask(http, SERIES, ANALYST, **v)
    points = body["data"]["analytics"]["postingsTimeseries"]
    assert sum(p["count"] for p in points) == len(posted)
    assert len(points) == (end - start).days + (1 if (end - start) % timedelta(days=1) else 0)
    by_day: dict[str, int] = defaultdict(int)
    for t in posted:
        by_day[t.astimezone(UTC).date().isoformat()] += 1
    assert {p["start"][:10]: p["count"] for p in points if p["count"]} == dict(by_day)


async def test_candidate_stats_and_skills_gap(http: httpx.AsyncClient, raw: dict[str, Any]) -> None:
    supply: dict[str, int] = defaultdict(int)
    for d in raw["docs"]:
        for name in {s["name"] for s in d.get("skills", [])}:
            supply[name] += 1
    body = await ask(http, CANDIDATE_STATS, ANALYST, g=["SKILL"])
    got = body["data"]["analytics"]["candidateStats"]
    assert {b["skill"]: b["count"] for b in got} == dict(supply)
    demand: dict[str, int] = defaultdict(int)
    for r in raw["jobs"]:
        if r["status"] == "open":
            for s in r["skills"]:
                demand[s] += 1
    body = await ask(http, GAP, ANALYST, first=1000)
    gap = body["data"]["analytics"]["skillsGap"]
    assert {g["skill"]: (g["demand"], g["supply"]) for g in gap} == {
        s: (n, supply.get(s, 0)) for s, n in demand.items()
    }
    for g in gap:
        assert _near(g["ratio"], g["demand"] / g["supply"] if g["supply"] else None)
    keys = [g["demand"] / max(g["supply"], 1) for g in gap]
    assert keys == sorted(keys, reverse=True)


async def test_funnel_counts_per_company(http: httpx.AsyncClient, raw: dict[str, Any]) -> None:
    company = raw["apps"][0]["company_id"]
    mine = [a for a in raw["apps"] if a["company_id"] == company]
    body = await ask(http, FUNNEL, ANALYST, c=to_global_id("Company", company))
    f = body["data"]["analytics"]["applicationFunnel"]
    assert f["total"] == len(mine)
    assert f["rejected"] == sum(a["status"] == "rejected" for a in mine)
    assert f["stages"][0] == {
        "status": "APPLIED", "count": len(mine), "conversion": None, "medianDays": None,
        "p90Days": None,
    }  # fmt: skip
    hired = sum(a["status"] == "hired" for a in mine)
    assert f["stages"][-1]["count"] == hired


# -- authorization ------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, token(Role.CANDIDATE, candidate_id="0" * 24)])
async def test_public_and_candidates_are_forbidden(
    http: httpx.AsyncClient, who: str | None
) -> None:
    body = await ask(http, JOB_STATS, who, g=["COUNTRY"])
    assert body["data"] == {"analytics": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_recruiter_sees_own_company_only(
    http: httpx.AsyncClient, raw: dict[str, Any]
) -> None:
    company = raw["apps"][0]["company_id"]
    recruiter = token(Role.RECRUITER, company_id=company)
    body = await ask(http, JOB_STATS, recruiter, g=["COUNTRY"], f={"status": ["OPEN", "DRAFT"]})
    got = body["data"]["analytics"]["jobStats"]
    mine = [r for r in raw["jobs"] if r["company_id"] == company and r["status"] != "closed"]
    assert sum(b["count"] for b in got) == len(mine)
    other = to_global_id("Company", company + 1)
    body = await ask(http, JOB_STATS, recruiter, g=["COUNTRY"], f={"companyIds": [other]})
    assert body["data"]["analytics"]["jobStats"] == []
    body = await ask(http, FUNNEL, recruiter, c=other)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    body = await ask(http, CANDIDATE_STATS, recruiter, g=["COUNTRY"])
    applicants = {a["candidate_id"] for a in raw["apps"] if a["company_id"] == company}
    existing = {str(d["_id"]) for d in raw["docs"]}
    total = sum(b["count"] for b in body["data"]["analytics"]["candidateStats"])
    assert total == len(applicants & existing) > 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SERIES, {"i": "DAY", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        (SERIES, {"i": "DAY", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        (JOB_STATS, {"g": ["COUNTRY", "COUNTRY"]}),
        (JOB_STATS, {"g": ["COUNTRY"], "first": 1001}),
        (FUNNEL, {}),
    ],
)
async def test_bad_input(http: httpx.AsyncClient, query: str, variables: Any) -> None:
    body = await ask(http, query, ANALYST, **variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# -- response cache -----------------------------------------------------------------------


async def test_aggregates_are_cached_by_ttl(
    app: FastAPI, http: httpx.AsyncClient, seeded: Seeded
) -> None:
    stats = app.state.response_cache.stats
    v = {"g": ["SENIORITY"], "f": {"countries": ["IN"]}}
    first = await post(http, JOB_STATS, ANALYST, **v)
    assert first.headers["cache-control"] == "private, max-age=60"
    hits = stats.hits
    second = await post(http, JOB_STATS, ANALYST, **v)
    assert stats.hits == hits + 1
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    # Another role's scope is another entry.
    admin = await post(http, JOB_STATS, token(Role.ADMIN), **v)
    assert stats.hits == hits + 1
    assert admin.json() == first.json()
    # TTL only: a job write bumps the Job version, and the aggregate is still served.
    await app.state.datasources.invalidator.entities_changed("Job", [1])
    third = await post(http, JOB_STATS, ANALYST, **v)
    assert stats.hits == hits + 2
    assert third.content == first.content
    funnel = await post(http, FUNNEL, ANALYST, j=to_global_id("Job", 3))
    assert funnel.headers["cache-control"] == "private, max-age=30"  # a miss: the full age
    # A recruiter's entry is their company's: never served to another company.
    mine = await post(http, JOB_STATS, token(Role.RECRUITER, company_id=1), **v)
    theirs = await post(http, JOB_STATS, token(Role.RECRUITER, company_id=2), **v)
    assert mine.headers["etag"] != theirs.headers["etag"]
