"""Applications over HTTP through the real app and its real stores: a candidate applies
(a seeded profile in Mongo, a job in PostgreSQL), the job's recruiter moves it along
the pipeline, the candidate withdraws. Each test asserts the response body and the rows
(applications, application_history, outbox). The jobs belong to a company created here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from datasources.mongo.bootstrap import CANDIDATES
from schema.ids import int_key
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import (
    ADMIN,
    ANALYST,
    CLOSE_JOB,
    USER_ERROR,
    NewCompany,
    Real,
    candidate,
    gid,
    real_app,
    recruiter,
)

pytestmark = pytest.mark.e2e
HISTORY = "history { from to at by note }"
APPLY = f"""mutation($input: ApplyToJobInput!) {{ applyToJob(input: $input) {{ __typename
    ... on ApplicationPayload {{ application {{ id status source job {{ id }} candidate {{ id }}
      {HISTORY} }} }}
    ... on AlreadyApplied {{ applicationId }} {USER_ERROR} }} }}"""
ADVANCE = f"""mutation($id: ID!, $to: ApplicationStatus!, $note: String) {{
  advanceApplication(input: {{id: $id, to: $to, note: $note}}) {{ __typename
    ... on ApplicationPayload {{ application {{ id status {HISTORY} }} }}
    ... on InvalidTransition {{ from allowed }} {USER_ERROR} }} }}"""
COUNT = "query($id: ID!) { job(id: $id) { applications { totalCount } } }"


@dataclass(frozen=True)
class World:
    company: NewCompany
    open_jobs: tuple[str, str]  # global ids
    closed_job: str
    draft_job: str
    candidates: tuple[str, str]  # seeded profiles (Mongo ids) that applied to none of these


@pytest.fixture(scope="module")
async def real(seeded: Seeded) -> AsyncIterator[Real]:
    async with real_app(seeded, "mut-apps") as app:
        yield app


@pytest.fixture(scope="module")
async def world(
    real: Real, seeded: Seeded, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> World:
    company = await real.new_company()
    first, _ = await real.post_job(company, publish=True)
    second, _ = await real.post_job(company, publish=True)
    closed, _ = await real.post_job(company, publish=True)
    assert (await real.mutate(CLOSE_JOB, ADMIN, id=closed))["job"]["status"] == "CLOSED"
    draft, _ = await real.post_job(company)
    docs = mongo_client[seeded.mongo_db][CANDIDATES].find({}, {"_id": 1}).sort("_id").limit(2)
    ids = [str(d["_id"]) async for d in docs]
    assert len(ids) == 2
    return World(company, (first, second), closed, draft, (ids[0], ids[1]))


async def _apply(real: Real, job: str, who: str, by: Any = None, source: str = "direct") -> Any:
    given = {"jobId": job, "candidateId": gid("Candidate", who), "source": source}
    return await real.mutate(APPLY, by or candidate(who), input=given)


async def _rows(real: Real, application_id: int) -> dict[str, Any]:
    """What the stores hold for one application: its status, history and events."""
    status = await real.db.fetchval("SELECT status FROM applications WHERE id = $1", application_id)
    history = await real.db.fetch(
        "SELECT from_status, to_status, by_subject, note FROM application_history"
        " WHERE application_id = $1 ORDER BY id",
        application_id,
    )
    return {
        "status": status,
        "history": [tuple(r) for r in history],
        "events": await real.outbox("Application", application_id),
    }


async def test_a_candidate_applies_once_to_an_open_job(real: Real, world: World) -> None:
    me, other = world.candidates
    job = world.open_jobs[0]
    boss = recruiter(world.company.pk)
    assert (await real.ask(COUNT, boss, id=job))["job"]["applications"]["totalCount"] == 0

    applied = await _apply(real, job, me, source="referral")
    assert applied["__typename"] == "ApplicationPayload", applied
    app = applied["application"]
    app_id = int_key(app["id"], "Application")
    by = f"user:mut-candidate-{me}"
    assert {k: app[k] for k in ("status", "source", "job", "candidate")} == {
        "status": "APPLIED", "source": "referral", "job": {"id": job},
        "candidate": {"id": gid("Candidate", me)},
    }  # fmt: skip
    assert [{k: v for k, v in h.items() if k != "at"} for h in app["history"]] == [
        {"from": None, "to": "APPLIED", "by": by, "note": None}
    ]
    rows = await _rows(real, app_id)
    assert rows["status"] == "applied"
    assert rows["history"] == [(None, "applied", by, None)]
    assert rows["events"] == [("ApplicationSubmitted", {
        "application_id": app_id, "job_id": int_key(job, "Job"), "company_id": world.company.pk,
        "candidate_id": me, "from": None, "to": "applied", "note": None, "by": by,
    })]  # fmt: skip
    # The recruiter's count was cached before the write, and is not stale after it.
    assert (await real.ask(COUNT, boss, id=job))["job"]["applications"]["totalCount"] == 1

    before = await real.last_outbox_id()
    again = await _apply(real, job, me)
    assert (again["__typename"], again["code"]) == ("AlreadyApplied", "ALREADY_APPLIED")
    assert again["applicationId"] == app["id"]
    closed = await _apply(real, world.closed_job, me)
    assert (closed["__typename"], closed["code"]) == ("Conflict", "CONFLICT")
    draft = await _apply(real, world.draft_job, me)  # a candidate cannot see drafts
    assert (draft["__typename"], draft["code"]) == ("NotFound", "NOT_FOUND")
    assert (await _apply(real, world.draft_job, me, by=ADMIN))["code"] == "CONFLICT"
    for_other = await _apply(real, world.open_jobs[1], other, by=candidate(me))
    assert (for_other["__typename"], for_other["code"]) == ("Forbidden", "FORBIDDEN")
    by_recruiter = await _apply(real, world.open_jobs[1], other, by=boss)
    assert by_recruiter["code"] == "FORBIDDEN"
    missing_job = await _apply(real, gid("Job", 999_999_999), me)
    missing_profile = await _apply(real, job, "0" * 24, by=ADMIN)
    assert (missing_job["code"], missing_profile["code"]) == ("NOT_FOUND", "NOT_FOUND")
    bad = await real.mutate(
        APPLY, ADMIN, input={"jobId": world.company.id, "candidateId": job, "source": "x"}
    )
    assert sorted(e["path"] for e in bad["fieldErrors"]) == [
        ["input", "candidateId"], ["input", "jobId"]]  # fmt: skip
    assert await real.last_outbox_id() == before
    assert await _rows(real, app_id) == rows
    total = await real.db.fetchval(
        "SELECT count(*) FROM applications a JOIN jobs j ON j.id = a.job_id"
        " WHERE j.company_id = $1",
        world.company.pk,
    )
    assert total == 1


def _moves(history: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(h["from"], h["to"], h["by"], h["note"]) for h in history]


async def test_a_recruiter_moves_an_application_to_hired(real: Real, world: World) -> None:
    applied = await _apply(real, world.open_jobs[1], world.candidates[0], by=ADMIN)
    app = applied["application"]
    app_id = int_key(app["id"], "Application")
    boss = recruiter(world.company.pk, user="mut-boss")
    steps = ["SCREENING", "INTERVIEW", "OFFER", "HIRED"]
    for step in steps:
        moved = await real.mutate(ADVANCE, boss, id=app["id"], to=step, note=f"to {step}")
        assert moved["__typename"] == "ApplicationPayload", moved
        assert moved["application"]["status"] == step
    history = moved["application"]["history"]
    assert _moves(history) == [
        (None, "APPLIED", "user:mut-admin", None),
        ("APPLIED", "SCREENING", "user:mut-boss", "to SCREENING"),
        ("SCREENING", "INTERVIEW", "user:mut-boss", "to INTERVIEW"),
        ("INTERVIEW", "OFFER", "user:mut-boss", "to OFFER"),
        ("OFFER", "HIRED", "user:mut-boss", "to HIRED"),
    ]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    rows = await _rows(real, app_id)
    assert rows["status"] == "hired"
    assert rows["history"] == [
        (f and f.lower(), t.lower(), by, note) for f, t, by, note in _moves(history)
    ]
    events = rows["events"]
    assert [e for e, _ in events] == ["ApplicationSubmitted"] + ["ApplicationStatusChanged"] * 4
    assert [(p["from"], p["to"]) for _, p in events[1:]] == [
        ("applied", "screening"), ("screening", "interview"), ("interview", "offer"),
        ("offer", "hired"),
    ]  # fmt: skip
    assert {p["company_id"] for _, p in events} == {world.company.pk}

    for to in ("REJECTED", "WITHDRAWN", "OFFER"):
        final = await real.mutate(ADVANCE, boss, id=app["id"], to=to)
        assert (final["__typename"], final["code"]) == ("InvalidTransition", "INVALID_TRANSITION")
        assert (final["from"], final["allowed"]) == ("HIRED", [])
    assert await _rows(real, app_id) == rows


async def test_a_skip_is_refused_with_the_moves_allowed(real: Real, world: World) -> None:
    applied = await _apply(real, world.open_jobs[0], world.candidates[1], by=ADMIN)
    app_id = int_key(applied["application"]["id"], "Application")
    rows = await _rows(real, app_id)
    boss = recruiter(world.company.pk)
    skipped = await real.mutate(ADVANCE, boss, id=applied["application"]["id"], to="OFFER")
    assert (skipped["__typename"], skipped["code"]) == ("InvalidTransition", "INVALID_TRANSITION")
    assert skipped["from"] == "APPLIED"
    assert skipped["allowed"] == ["SCREENING", "REJECTED", "WITHDRAWN"]
    long_note = await real.mutate(
        ADVANCE, boss, id=applied["application"]["id"], to="SCREENING", note="x" * 2001
    )
    assert [e["path"] for e in long_note["fieldErrors"]] == [["input", "note"]]
    assert await _rows(real, app_id) == rows
    assert rows["status"] == "applied"


async def test_only_the_candidate_withdraws_and_only_the_company_advances(
    real: Real, world: World
) -> None:
    me, other = world.candidates
    mine = await _apply(real, world.open_jobs[1], other)
    app = mine["application"]
    app_id = int_key(app["id"], "Application")
    seeded_app, seeded_company = await real.db.fetchrow(
        "SELECT a.id, j.company_id FROM applications a JOIN jobs j ON j.id = a.job_id"
        " WHERE a.status = 'applied' AND j.company_id <> ALL($1::bigint[])"
        " ORDER BY a.id LIMIT 1",
        real.companies,
    )
    before, seeded_rows = await real.last_outbox_id(), await _rows(real, seeded_app)
    refused = {
        "candidate screens self": await real.mutate(
            ADVANCE, candidate(other), id=app["id"], to="SCREENING"),
        "another candidate withdraws": await real.mutate(
            ADVANCE, candidate(me), id=app["id"], to="WITHDRAWN"),
        "another company's recruiter": await real.mutate(
            ADVANCE, recruiter(seeded_company), id=app["id"], to="SCREENING"),
        "recruiter on another company": await real.mutate(
            ADVANCE, recruiter(world.company.pk), id=gid("Application", seeded_app),
            to="SCREENING"),
        "analyst": await real.mutate(ADVANCE, ANALYST, id=app["id"], to="SCREENING"),
        "public": await real.mutate(ADVANCE, None, id=app["id"], to="WITHDRAWN"),
        "unknown": await real.mutate(
            ADVANCE, ADMIN, id=gid("Application", 999_999_999), to="SCREENING"),
    }  # fmt: skip
    assert {k: v["code"] for k, v in refused.items()} == {
        "candidate screens self": "FORBIDDEN",
        "another candidate withdraws": "NOT_FOUND",  # they cannot see it
        "another company's recruiter": "NOT_FOUND",
        "recruiter on another company": "NOT_FOUND",
        "analyst": "NOT_FOUND",  # analysts see no applications
        "public": "NOT_FOUND",
        "unknown": "NOT_FOUND",
    }
    assert await real.last_outbox_id() == before
    assert await _rows(real, seeded_app) == seeded_rows

    withdrawn = await real.mutate(ADVANCE, candidate(other), id=app["id"], to="WITHDRAWN")
    assert withdrawn["application"]["status"] == "WITHDRAWN"
    by = f"user:mut-candidate-{other}"
    assert _moves(withdrawn["application"]["history"]) == [
        (None, "APPLIED", by, None), ("APPLIED", "WITHDRAWN", by, None)]  # fmt: skip
    rows = await _rows(real, app_id)
    assert rows["status"] == "withdrawn"
    assert [e for e, _ in rows["events"]] == ["ApplicationSubmitted", "ApplicationStatusChanged"]
    assert rows["events"][1][1]["by"] == by
