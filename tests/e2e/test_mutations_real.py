"""Company and job mutations over HTTP through the real app and its real stores.

Each test asserts the response body and what the write left in PostgreSQL (the row,
its outbox events). Jobs are written for a company the test created, by a RECRUITER
of that company, so the seeded companies stay as other tests count them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.viewer import Role, Viewer
from schema.ids import int_key
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import (
    ADMIN,
    ANALYST,
    CLOSE_JOB,
    CREATE_COMPANY,
    POST_JOB,
    PUBLISH_JOB,
    UPDATE_JOB,
    Real,
    gid,
    job_input,
    real_app,
    recruiter,
)

pytestmark = pytest.mark.e2e
BOARD = """query($c: [ID!]) { jobs(first: 20, filter: {companyIds: $c}) {
    edges { node { id title status company { name } } } } }"""
OPEN_COUNT = "{ jobs(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
async def real(seeded: Seeded) -> AsyncIterator[Real]:
    async with real_app(seeded, "mut-jobs") as app:
        yield app


async def _board(real: Real, company: str) -> list[dict[str, Any]]:
    """The public job board of one company (the response cache is on for PUBLIC)."""
    data = await real.ask(BOARD, None, c=[company])
    return [e["node"] for e in data["jobs"]["edges"]]


async def _open_count(real: Real) -> int:
    count: int = (await real.ask(OPEN_COUNT, None))["jobs"]["totalCount"]
    return count


async def test_a_job_goes_from_draft_to_closed_and_the_board_follows(real: Real) -> None:
    company = await real.new_company()
    me = recruiter(company.pk)
    assert await _board(real, company.id) == []
    hits = real.cache_hits
    assert await _board(real, company.id) == []
    assert real.cache_hits == hits + 1  # the board is served from the response cache
    open_before = await _open_count(real)

    posted = await real.mutate(POST_JOB, me, input=job_input(company.id))
    assert posted["__typename"] == "JobPayload"
    job = posted["job"]
    job_id = int_key(job["id"], "Job")
    assert job["status"] == "DRAFT"
    assert job["postedAt"] is None
    assert job["company"] == {"id": company.id, "name": company.name}
    assert (job["country"], job["skills"]) == ("PT", ["python", "postgres"])  # normalized
    assert job["salary"] == {"min": {"amount": 50_000}, "max": {"amount": 70_000},
                             "currency": "EUR"}  # fmt: skip
    row = await real.job_row(job_id)
    assert row is not None
    assert (row["company_id"], row["status"], row["title"]) == (company.pk, "draft", job["title"])
    assert (row["country"], row["salary_currency"], row["posted_at"]) == ("PT", "EUR", None)
    events = await real.outbox("Job", job_id)
    assert [e for e, _ in events] == ["JobPosted"]
    assert events[0][1] == {
        "job_id": job_id, "company_id": company.pk, "status": "draft", "title": job["title"],
        "changed": [], "by": "user:mut-recruiter",
    }  # fmt: skip
    assert await _board(real, company.id) == []  # a draft is not public
    assert await _open_count(real) == open_before

    published = await real.mutate(PUBLISH_JOB, me, id=job["id"])
    assert published["job"]["status"] == "OPEN"
    assert published["job"]["postedAt"] is not None
    assert published["job"]["company"]["name"] == company.name
    assert (await real.job_row(job_id))["status"] == "open"  # type: ignore[index]
    board = await _board(real, company.id)
    assert board == [{"id": job["id"], "title": job["title"], "status": "OPEN",
                      "company": {"name": company.name}}]  # fmt: skip
    assert await _open_count(real) == open_before + 1

    title = job["title"] + " (remote)"
    updated = await real.mutate(UPDATE_JOB, me, input={"id": job["id"], "title": title})
    assert (updated["job"]["title"], updated["job"]["status"]) == (title, "OPEN")
    assert (await real.job_row(job_id))["title"] == title  # type: ignore[index]
    assert [n["title"] for n in await _board(real, company.id)] == [title]

    closed = await real.mutate(CLOSE_JOB, me, id=job["id"])
    assert closed["job"] == {**updated["job"], "status": "CLOSED"}
    assert (await real.job_row(job_id))["status"] == "closed"  # type: ignore[index]
    assert await _board(real, company.id) == []
    assert await _open_count(real) == open_before

    events = await real.outbox("Job", job_id)
    assert [e for e, _ in events] == ["JobPosted", "JobPublished", "JobUpdated", "JobClosed"]
    assert {p["job_id"] for _, p in events} == {job_id}
    assert [p["status"] for _, p in events] == ["draft", "open", "open", "closed"]
    assert events[1][1]["changed"] == ["posted_at", "status"]
    assert events[2][1]["changed"] == ["title"]
    assert events[3][1]["changed"] == ["status"]


async def _seeded_company_with_open_and_draft(real: Real) -> tuple[int, int, int]:
    """(company, an open job, a draft job) of a seeded company."""
    row = await real.db.fetchrow(
        """SELECT company_id,
                  min(id) FILTER (WHERE status = 'open') AS open_job,
                  min(id) FILTER (WHERE status = 'draft') AS draft_job
           FROM jobs WHERE company_id <> ALL($1::bigint[]) GROUP BY company_id
           HAVING bool_or(status = 'open') AND bool_or(status = 'draft')
           ORDER BY company_id LIMIT 1""",
        real.companies,
    )
    assert row is not None, "the seed has a company with open and draft jobs"
    return row["company_id"], row["open_job"], row["draft_job"]


async def test_only_admins_and_the_companys_recruiters_change_its_jobs(real: Real) -> None:
    """Another company's job the viewer can see (open) is FORBIDDEN; one they cannot see
    (a draft) is NOT_FOUND, as for reads. PUBLIC and ANALYST write nothing."""
    company = await real.new_company()
    draft, draft_id = await real.post_job(company)
    other, open_job, other_draft = await _seeded_company_with_open_and_draft(real)
    before = await real.last_outbox_id()
    states = await real.db.fetch("SELECT * FROM jobs WHERE company_id = $1 ORDER BY id", other)
    me = recruiter(company.pk)
    codes = {
        "close their open job": await real.mutate(CLOSE_JOB, me, id=gid("Job", open_job)),
        "update their open job": await real.mutate(
            UPDATE_JOB, me, input={"id": gid("Job", open_job), "title": "Taken over"}
        ),
        "publish their draft": await real.mutate(PUBLISH_JOB, me, id=gid("Job", other_draft)),
        "post for them": await real.mutate(POST_JOB, me, input=job_input(gid("Company", other))),
        "public posts": await real.mutate(POST_JOB, None, input=job_input(company.id)),
        "public publishes": await real.mutate(PUBLISH_JOB, None, id=draft),
        "analyst posts": await real.mutate(POST_JOB, ANALYST, input=job_input(company.id)),
        "analyst publishes": await real.mutate(PUBLISH_JOB, ANALYST, id=draft),
        "analyst closes": await real.mutate(CLOSE_JOB, ANALYST, id=gid("Job", open_job)),
    }
    assert {k: v["code"] for k, v in codes.items()} == {
        "close their open job": "FORBIDDEN",
        "update their open job": "FORBIDDEN",
        "publish their draft": "NOT_FOUND",  # they cannot see it
        "post for them": "FORBIDDEN",
        "public posts": "FORBIDDEN",
        "public publishes": "NOT_FOUND",  # PUBLIC sees no drafts
        "analyst posts": "FORBIDDEN",
        "analyst publishes": "NOT_FOUND",  # analysts see open jobs only
        "analyst closes": "FORBIDDEN",
    }
    assert {v["__typename"] for v in codes.values()} == {"Forbidden", "NotFound"}
    # A recruiter's token without a company is refused before anything runs.
    homeless = Viewer(Role.RECRUITER, user_id="mut-x")
    refused = await real.post(POST_JOB, homeless, input=job_input(company.id))
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await real.last_outbox_id() == before
    assert await real.db.fetch("SELECT * FROM jobs WHERE company_id = $1 ORDER BY id", other) == (
        states
    )
    jobs = await real.db.fetch("SELECT id, status FROM jobs WHERE company_id = $1", company.pk)
    assert [tuple(r) for r in jobs] == [(draft_id, "draft")]


async def test_invalid_input_names_every_field_and_writes_nothing(real: Real) -> None:
    company = await real.new_company()
    draft, _ = await real.post_job(company)
    before = await real.last_outbox_id()
    me = recruiter(company.pk)

    async def paths(query: str, **variables: Any) -> list[list[str]]:
        result = await real.mutate(query, me, **variables)
        assert (result["__typename"], result["code"]) == ("InvalidInput", "BAD_USER_INPUT")
        return sorted(e["path"] for e in result["fieldErrors"])

    bad = job_input(company.id, salaryMin=90_000, salaryMax=70_000, country="Portugal")
    assert await paths(POST_JOB, input=bad) == [["input", "country"], ["input", "salaryMax"]]
    blank = job_input(company.id, title="  ", experienceMin=5, experienceMax=2, skills=[" "])
    assert await paths(POST_JOB, input=blank) == [
        ["input", "experienceMax"], ["input", "skills"], ["input", "title"]]  # fmt: skip
    assert await paths(POST_JOB, input=job_input("not-an-id")) == [["input", "companyId"]]
    assert await paths(POST_JOB, input=job_input(draft)) == [["input", "companyId"]]  # a Job id
    assert await paths(UPDATE_JOB, input={"id": company.id, "title": None}) == [
        ["input", "id"], ["input", "title"]]  # fmt: skip
    assert await paths(UPDATE_JOB, input={"id": draft, "salaryMin": 9, "salaryMax": 1}) == [
        ["input", "salaryMax"]
    ]
    assert await paths(UPDATE_JOB, input={"id": draft, "country": "xyz"}) == [["input", "country"]]
    assert await paths(PUBLISH_JOB, id="Sm9iOg") == [["input", "id"]]  # "Job:" without a key
    assert await paths(CLOSE_JOB, id=company.id) == [["input", "id"]]
    assert await real.last_outbox_id() == before
    rows = await real.db.fetch("SELECT id, title FROM jobs WHERE company_id = $1", company.pk)
    assert [r["id"] for r in rows] == [int_key(draft, "Job")]


async def test_unknown_and_closed_jobs(real: Real) -> None:
    company = await real.new_company()
    me = recruiter(company.pk)
    unknown = gid("Job", 999_999_999)
    for result in (
        await real.mutate(PUBLISH_JOB, me, id=unknown),
        await real.mutate(CLOSE_JOB, me, id=unknown),
        await real.mutate(UPDATE_JOB, me, input={"id": unknown, "title": "Nobody"}),
        await real.mutate(POST_JOB, ADMIN, input=job_input(gid("Company", 999_999_999))),
    ):
        assert (result["__typename"], result["code"]) == ("NotFound", "NOT_FOUND")
    job, job_id = await real.post_job(company, publish=True)
    assert (await real.mutate(CLOSE_JOB, me, id=job))["job"]["status"] == "CLOSED"
    again = {
        "publish": await real.mutate(PUBLISH_JOB, me, id=job),
        "close": await real.mutate(CLOSE_JOB, me, id=job),
        "update": await real.mutate(UPDATE_JOB, me, input={"id": job, "title": "Reopened?"}),
    }
    assert {k: (v["__typename"], v["code"]) for k, v in again.items()} == dict.fromkeys(
        again, ("Conflict", "CONFLICT")
    )
    assert "closed" in again["publish"]["message"]
    assert [e for e, _ in await real.outbox("Job", job_id)] == ["JobPosted", "JobClosed"]
    row = await real.job_row(job_id)
    assert row is not None
    assert row["status"] == "closed"
    assert row["title"].startswith("Mutation Engineer ")  # the refused update changed nothing


async def test_an_admin_creates_a_company_once_per_slug(real: Real) -> None:
    slug = f"mut-{uuid.uuid4().hex[:12]}"
    given = {"slug": slug, "name": "Slug Holder", "industry": "Retail", "size": "S11_50",
             "website": "https://example.com", "foundedYear": 2001}  # fmt: skip
    refused = await real.mutate(CREATE_COMPANY, recruiter(1), input=given)
    assert (refused["__typename"], refused["code"]) == ("Forbidden", "FORBIDDEN")
    assert await real.db.fetchval("SELECT count(*) FROM companies WHERE slug = $1", slug) == 0

    created = await real.mutate(CREATE_COMPANY, ADMIN, input=given)
    assert created["__typename"] == "CompanyPayload"
    pk = int_key(created["company"]["id"], "Company")
    real.companies.append(pk)
    assert created["company"] == {"id": gid("Company", pk), "slug": slug, "name": "Slug Holder",
                                  "industry": "Retail"}  # fmt: skip
    row = await real.db.fetchrow("SELECT * FROM companies WHERE id = $1", pk)
    assert (row["slug"], row["size_band"], row["founded_year"]) == (slug, "11-50", 2001)
    events = await real.outbox("Company", pk)
    assert events == [("CompanyCreated", {"company_id": pk, "changed": [], "by": "user:mut-admin"})]

    before = await real.last_outbox_id()
    duplicate = await real.mutate(CREATE_COMPANY, ADMIN, input={**given, "name": "Another"})
    assert (duplicate["__typename"], duplicate["code"]) == ("Conflict", "CONFLICT")
    assert slug in duplicate["message"]
    bad = await real.mutate(CREATE_COMPANY, ADMIN, input={**given, "slug": "Not A Slug"})
    assert [e["path"] for e in bad["fieldErrors"]] == [["input", "slug"]]
    assert await real.db.fetchval("SELECT count(*) FROM companies WHERE slug = $1", slug) == 1
    assert await real.db.fetchval("SELECT name FROM companies WHERE id = $1", pk) == "Slug Holder"
    assert await real.last_outbox_id() == before


async def test_an_idempotency_key_posts_one_job(real: Real) -> None:
    company = await real.new_company()
    me = recruiter(company.pk, user="mut-idem")
    given = job_input(company.id)
    key = {"idempotency-key": f"post-{uuid.uuid4().hex}"}
    first = await real.post(POST_JOB, me, headers=key, input=given)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    job = first.json()["data"]["postJob"]["job"]
    retry = await real.post(POST_JOB, me, headers=key, input=given)
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert retry.headers["cache-control"] == "no-store"
    rows = await real.db.fetch("SELECT id FROM jobs WHERE company_id = $1", company.pk)
    assert [r["id"] for r in rows] == [int_key(job["id"], "Job")]
    assert [e for e, _ in await real.outbox("Job", rows[0]["id"])] == ["JobPosted"]

    other = await real.post(POST_JOB, me, headers=key, input={**given, "title": "Other"})
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (
        await real.db.fetchval("SELECT count(*) FROM jobs WHERE company_id = $1", company.pk) == 1
    )
    # The same key is another caller's own: it executes for them.
    admin = await real.post(POST_JOB, ADMIN, headers=key, input=given)
    assert "idempotent-replayed" not in admin.headers
    assert admin.json()["data"]["postJob"]["job"]["id"] != job["id"]


async def test_a_mutation_always_executes_and_never_over_get(real: Real) -> None:
    company = await real.new_company()
    job, job_id = await real.post_job(company)
    change = {"id": job, "title": "Same change twice"}
    for _ in range(2):  # `mutate` checks `Cache-Control: no-store` on each
        updated = await real.mutate(UPDATE_JOB, recruiter(company.pk), input=change)
        assert updated["job"]["title"] == "Same change twice"
    assert [e for e, _ in await real.outbox("Job", job_id)] == [
        "JobPosted", "JobUpdated", "JobUpdated"]  # fmt: skip
    before = await real.last_outbox_id()
    query = "mutation($id: ID!) { closeJob(input: {id: $id}) { __typename } }"
    params = {"query": query, "variables": f'{{"id": "{job}"}}'}
    response = await real.http.get("/graphql", params=params)
    assert response.status_code == 405, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await real.last_outbox_id() == before
    assert (await real.job_row(job_id))["status"] == "draft"  # type: ignore[index]
