"""PostgreSQL write adapters against a real server: the committed record, the row, and
exactly the outbox rows each write adds (none when it fails)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources import roundtrips
from datasources.postgres.application_writes import PgApplicationWriter
from datasources.postgres.company_writes import PgCompanyWriter
from datasources.postgres.engine import asyncpg_dsn, create_engine
from datasources.postgres.job_writes import PgJobWriter
from datasources.postgres.outbox import add_events
from datasources.seed import Dataset, Scale
from datasources.seed.postgres import TABLES, load_postgres
from domain.commands import Actor, Changes, NewCompany, NewJob, StatusChange, ValidationFailed
from domain.enums import ApplicationStatus as S
from domain.enums import CompanySize, EmploymentType, JobStatus, RemotePolicy, Seniority
from domain.errors import AlreadyApplied, Conflict, InvalidTransition, NotFound
from domain.events import COMPANY_CREATED, DomainEvent
from domain.records import Job
from tests.factories import cid
from tests.roundtrips import statements

pytestmark = pytest.mark.integration
ME = Actor("user:recruiter-1")
NEW_JOB = NewJob(
    company_id=0, title="Platform Engineer", description="Run Kubernetes clusters.",
    location="Berlin, Germany", country="de", remote=RemotePolicy.HYBRID,
    employment_type=EmploymentType.FULL_TIME, seniority=Seniority.SENIOR, city="Berlin",
    salary_min=70_000, salary_max=90_000, salary_currency="eur", skills=("Go", "go", "K8s"),
)  # fmt: skip


class Db:
    """Raw reads of what the writers left behind (asyncpg, outside their transactions)."""

    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def count(self, table: str) -> int:
        return int((await self.rows(f"SELECT count(*) AS n FROM {table}"))[0]["n"])

    async def events(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        rows = await self.rows(
            "SELECT event_type, aggregate_type, aggregate_id, payload FROM outbox ORDER BY id"
        )
        return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(
        pg_url, pool_size=4, max_overflow=0, pool_timeout=5, connect_timeout=5,
        statement_timeout_ms=10_000,
    )  # fmt: skip
    roundtrips.instrument_engine(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def db(pg_url: str) -> Db:
    return Db(pg_url)


@pytest.fixture
def companies(engine: AsyncEngine) -> PgCompanyWriter:
    return PgCompanyWriter(engine)


@pytest.fixture
def jobs(engine: AsyncEngine) -> PgJobWriter:
    return PgJobWriter(engine)


@pytest.fixture
def apps(engine: AsyncEngine) -> PgApplicationWriter:
    return PgApplicationWriter(engine)


@pytest.fixture
async def open_job(companies: PgCompanyWriter, jobs: PgJobWriter, db: Db) -> Job:
    """An OPEN job of a new company; the outbox is emptied so tests see only their own."""
    company = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    job = await jobs.post(replace(NEW_JOB, company_id=company.id), ME)
    job = await jobs.publish(job.id, ME)
    await db.rows("DELETE FROM outbox")
    return job


# -- outbox ------------------------------------------------------------------------------


async def test_add_events_is_one_insert_in_the_callers_transaction(
    engine: AsyncEngine, db: Db
) -> None:
    events = [DomainEvent(COMPANY_CREATED, str(i), {"company_id": i}) for i in (1, 2, 3)]
    async with engine.begin() as conn:
        with statements() as log:
            await add_events(conn, events)
            await add_events(conn, [])
        assert log.postgres == 1
        await conn.rollback()
    assert await db.count("outbox") == 0
    async with engine.begin() as conn:
        await add_events(conn, events)
    rows = await db.rows("SELECT event_id::text, occurred_at, attempts FROM outbox ORDER BY id")
    assert [r["event_id"] for r in rows] == [e.event_id for e in events]
    assert [r["occurred_at"] for r in rows] == [e.occurred_at for e in events]
    assert {r["attempts"] for r in rows} == {0}


# -- companies ---------------------------------------------------------------------------


async def test_create_company(companies: PgCompanyWriter, db: Db) -> None:
    new = NewCompany("acme-labs", " Acme Labs ", "Software", size=CompanySize.S11_50)
    company = await companies.create(new, ME)
    assert (company.slug, company.name, company.size) == ("acme-labs", "Acme Labs", new.size)
    assert company.created_at == company.updated_at
    (row,) = await db.rows("SELECT * FROM companies")
    assert (row["id"], row["name"], row["size_band"]) == (company.id, "Acme Labs", "11-50")
    assert await db.events() == [
        ("CompanyCreated", "Company", str(company.id),
         {"company_id": company.id, "changed": [], "by": ME.subject}),
    ]  # fmt: skip
    (event,) = await db.rows("SELECT occurred_at, published_at FROM outbox")
    assert (event["occurred_at"], event["published_at"]) == (company.updated_at, None)


async def test_taken_slug_or_invalid_company_writes_nothing(
    companies: PgCompanyWriter, db: Db
) -> None:
    await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    with pytest.raises(Conflict, match="acme"):
        await companies.create(NewCompany("acme", "Other", "Retail"), ME)
    with pytest.raises(ValidationFailed):
        await companies.create(NewCompany("Not A Slug", "Other", "Retail"), ME)
    assert await db.count("companies") == 1
    assert len(await db.events()) == 1


async def test_an_unexpected_violation_is_not_passed_off_as_a_taken_slug(
    companies: PgCompanyWriter, db: Db
) -> None:
    # An explicit id without moving the identity (what the seed does): the next
    # generated id collides on the primary key, which is a bug, not a Conflict.
    await db.rows("INSERT INTO companies (id, slug, name, industry) VALUES (1, 'x', 'X', 'Y')")
    with pytest.raises(IntegrityError, match="companies_pkey"):
        await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    assert await db.count("outbox") == 0


async def test_update_company(companies: PgCompanyWriter, db: Db) -> None:
    before = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    changes = Changes({"name": "Acme Inc", "size": "5000+", "website": "https://acme.test"})
    after = await companies.update(before.id, changes, ME)
    assert (after.name, after.size, after.website) == ("Acme Inc", CompanySize.S5000_PLUS,
                                                       "https://acme.test")  # fmt: skip
    assert after.slug == before.slug
    assert after.updated_at > before.updated_at
    assert after.created_at == before.created_at
    (row,) = await db.rows("SELECT name, size_band::text, updated_at FROM companies")
    assert tuple(row) == ("Acme Inc", "5000+", after.updated_at)
    assert (await db.events())[1] == (
        "CompanyUpdated", "Company", str(before.id),
        {"company_id": before.id, "changed": ["name", "size", "website"], "by": ME.subject},
    )  # fmt: skip
    assert await companies.update(before.id, Changes({}), ME) == after  # nothing, no event
    with pytest.raises(NotFound):
        await companies.update(404, Changes({"name": "X"}), ME)
    with pytest.raises(NotFound):
        await companies.update(404, Changes({}), ME)
    assert len(await db.events()) == 2


# -- jobs --------------------------------------------------------------------------------


async def test_post_a_draft_job(companies: PgCompanyWriter, jobs: PgJobWriter, db: Db) -> None:
    company = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    job = await jobs.post(replace(NEW_JOB, company_id=company.id), ME)
    assert (job.status, job.posted_at, job.company_id) == (JobStatus.DRAFT, None, company.id)
    assert (job.country, job.salary_currency, job.skills) == ("DE", "EUR", ("go", "k8s"))
    (row,) = await db.rows(
        "SELECT id, status::text, skills FROM jobs"
        " WHERE search @@ websearch_to_tsquery('english', 'kubernetes')"
    )
    assert tuple(row) == (job.id, "draft", ["go", "k8s"])
    assert (await db.events())[1] == (
        "JobPosted", "Job", str(job.id),
        {"job_id": job.id, "company_id": company.id, "status": "draft",
         "title": "Platform Engineer", "changed": [], "by": ME.subject},
    )  # fmt: skip


async def test_post_published_and_for_a_missing_company(
    companies: PgCompanyWriter, jobs: PgJobWriter, db: Db
) -> None:
    company = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    new = replace(NEW_JOB, company_id=company.id, publish=True)
    job = await jobs.post(new, ME)
    assert job.status is JobStatus.OPEN
    assert job.posted_at == job.updated_at
    with pytest.raises(NotFound, match="company 404"):
        await jobs.post(replace(NEW_JOB, company_id=404), ME)
    with pytest.raises(ValidationFailed):
        await jobs.post(replace(new, salary_max=1), ME)
    assert await db.count("jobs") == 1
    assert [e[0] for e in await db.events()] == ["CompanyCreated", "JobPosted"]


async def test_update_job_keeps_search_current(open_job: Job, jobs: PgJobWriter, db: Db) -> None:
    changes = Changes({"title": "Database Reliability Engineer", "skills": ["Postgres"]})
    job = await jobs.update(open_job.id, changes, ME)
    assert (job.title, job.skills, job.status) == (
        "Database Reliability Engineer", ("postgres",), JobStatus.OPEN,
    )  # fmt: skip
    assert job.posted_at == open_job.posted_at
    assert job.updated_at > open_job.updated_at

    async def found(words: str) -> list[int]:
        sql = "SELECT id FROM jobs WHERE search @@ websearch_to_tsquery('english', $1)"
        return [r["id"] for r in await db.rows(sql, words)]

    assert await found("reliability") == [job.id]
    assert await found("platform") == []
    assert await db.events() == [
        ("JobUpdated", "Job", str(job.id),
         {"job_id": job.id, "company_id": job.company_id, "status": "open",
          "title": "Database Reliability Engineer", "changed": ["skills", "title"],
          "by": ME.subject}),
    ]  # fmt: skip


async def test_an_update_that_breaks_the_merged_row_is_a_validation_failure(
    open_job: Job, jobs: PgJobWriter, db: Db
) -> None:
    for changes, path in [
        ({"salary_min": 100_000}, "salaryMax"),  # above the stored salary_max
        ({"salary_currency": None}, "salaryCurrency"),  # the stored salary needs one
    ]:
        with pytest.raises(ValidationFailed) as exc:
            await jobs.update(open_job.id, Changes(changes), ME)
        assert [e.path for e in exc.value.errors] == [("input", path)]
    with pytest.raises(ValidationFailed):
        await jobs.update(open_job.id, Changes({"status": "closed"}), ME)
    (row,) = await db.rows("SELECT salary_min, salary_currency, status::text FROM jobs")
    assert tuple(row) == (70_000, "EUR", "open")
    assert await db.events() == []


async def test_publish_and_close(companies: PgCompanyWriter, jobs: PgJobWriter, db: Db) -> None:
    company = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    draft = await jobs.post(replace(NEW_JOB, company_id=company.id), ME)
    await db.rows("DELETE FROM outbox")
    opened = await jobs.publish(draft.id, ME)
    assert opened.status is JobStatus.OPEN
    assert opened.posted_at == opened.updated_at
    with pytest.raises(Conflict, match="is open"):
        await jobs.publish(draft.id, ME)
    closed = await jobs.close(draft.id, ME)
    assert (closed.status, closed.posted_at) == (JobStatus.CLOSED, opened.posted_at)
    for refused in (
        jobs.publish(draft.id, ME),
        jobs.close(draft.id, ME),
        jobs.update(draft.id, Changes({"title": "Again"}), ME),
        jobs.update(draft.id, Changes({}), ME),
    ):
        with pytest.raises(Conflict, match="closed"):
            await refused
    for missing in (jobs.publish(404, ME), jobs.close(404, ME), jobs.update(404, Changes({}), ME)):
        with pytest.raises(NotFound):
            await missing
    assert [(e[0], e[3]["status"], e[3]["changed"]) for e in await db.events()] == [
        ("JobPublished", "open", ["posted_at", "status"]),
        ("JobClosed", "closed", ["status"]),
    ]
    (row,) = await db.rows("SELECT status::text, title FROM jobs")
    assert tuple(row) == ("closed", "Platform Engineer")


async def test_a_draft_can_be_closed(companies: PgCompanyWriter, jobs: PgJobWriter, db: Db) -> None:
    company = await companies.create(NewCompany("acme", "Acme", "Software"), ME)
    draft = await jobs.post(replace(NEW_JOB, company_id=company.id), ME)
    closed = await jobs.close(draft.id, ME)
    # Only drafts lack posted_at (a CHECK the readers' keyset relies on).
    assert (closed.status, closed.posted_at) == (JobStatus.CLOSED, closed.updated_at)
    assert (await db.events())[-1][3]["changed"] == ["posted_at", "status"]


# -- applications ------------------------------------------------------------------------

ALICE, BOB = cid(0xA11CE), cid(0xB0B)


async def test_apply(open_job: Job, apps: PgApplicationWriter, db: Db) -> None:
    app = await apps.apply(open_job.id, ALICE, "referral", ME)
    assert (app.job_id, app.candidate_id, app.status, app.source) == (
        open_job.id, ALICE, S.APPLIED, "referral",
    )  # fmt: skip
    assert app.applied_at == app.updated_at
    (row,) = await db.rows("SELECT id, status::text, source, applied_at FROM applications")
    assert tuple(row) == (app.id, "applied", "referral", app.applied_at)
    assert await apps.history([app.id]) == {
        app.id: [StatusChange(None, S.APPLIED, app.applied_at, ME.subject, None)]
    }
    assert await db.events() == [
        ("ApplicationSubmitted", "Application", str(app.id),
         {"application_id": app.id, "job_id": open_job.id, "company_id": open_job.company_id,
          "candidate_id": ALICE, "from": None, "to": "applied", "note": None,
          "by": ME.subject}),
    ]  # fmt: skip


async def test_failed_applications_leave_nothing(
    open_job: Job, jobs: PgJobWriter, apps: PgApplicationWriter, db: Db
) -> None:
    first = await apps.apply(open_job.id, ALICE, "direct", ME)
    with pytest.raises(AlreadyApplied) as taken:
        await apps.apply(open_job.id, ALICE, "linkedin", ME)
    assert taken.value.application_id == first.id
    with pytest.raises(NotFound, match="job 404"):
        await apps.apply(404, BOB, "direct", ME)
    with pytest.raises(ValidationFailed):
        await apps.apply(open_job.id, "not-an-object-id", "direct", ME)
    draft = await jobs.post(replace(NEW_JOB, company_id=open_job.company_id), ME)
    with pytest.raises(Conflict, match="draft"):
        await apps.apply(draft.id, BOB, "direct", ME)
    await jobs.close(open_job.id, ME)
    with pytest.raises(Conflict, match="closed"):
        await apps.apply(open_job.id, BOB, "direct", ME)
    assert await db.count("applications") == 1
    assert await db.count("application_history") == 1
    assert [e[0] for e in await db.events()] == ["ApplicationSubmitted", "JobPosted", "JobClosed"]


async def test_the_whole_pipeline_with_history(
    open_job: Job, apps: PgApplicationWriter, db: Db
) -> None:
    app = await apps.apply(open_job.id, ALICE, "direct", ME)
    steps = [(S.SCREENING, "phone screen"), (S.INTERVIEW, None), (S.OFFER, "  "), (S.HIRED, "yes")]
    moved = []
    for to, note in steps:
        moved.append(await apps.advance(app.id, to, note, Actor(f"user:{to.value}")))
    assert [a.status for a in moved] == [S.SCREENING, S.INTERVIEW, S.OFFER, S.HIRED]
    (row,) = await db.rows("SELECT status::text, updated_at FROM applications")
    assert tuple(row) == ("hired", moved[-1].updated_at)
    history = (await apps.history([app.id]))[app.id]
    assert [(h.from_status, h.to_status, h.by, h.note) for h in history] == [
        (None, S.APPLIED, ME.subject, None),
        (S.APPLIED, S.SCREENING, "user:screening", "phone screen"),
        (S.SCREENING, S.INTERVIEW, "user:interview", None),
        (S.INTERVIEW, S.OFFER, "user:offer", None),  # a blank note is no note
        (S.OFFER, S.HIRED, "user:hired", "yes"),
    ]
    assert [h.at for h in history] == [app.applied_at, *(a.updated_at for a in moved)]
    events = await db.events()
    assert [(e[0], e[2], e[3]["from"], e[3]["to"], e[3]["by"]) for e in events[1:]] == [
        ("ApplicationStatusChanged", str(app.id), h.from_status, h.to_status, h.by)
        for h in history[1:]
    ]
    assert events[1][3] == {
        "application_id": app.id, "job_id": open_job.id, "company_id": open_job.company_id,
        "candidate_id": ALICE, "from": "applied", "to": "screening", "note": "phone screen",
        "by": "user:screening",
    }  # fmt: skip

    with pytest.raises(InvalidTransition) as exc:
        await apps.advance(app.id, S.REJECTED, None, ME)
    assert (exc.value.current, exc.value.allowed) == ("hired", ())
    assert len(await db.events()) == len(events)
    assert await db.count("application_history") == len(history)


OPEN_STATES = (S.APPLIED, S.SCREENING, S.INTERVIEW, S.OFFER)


@pytest.mark.parametrize("reached", OPEN_STATES)
async def test_rejected_from_any_open_state_and_then_final(
    reached: S, open_job: Job, apps: PgApplicationWriter, db: Db
) -> None:
    app = await apps.apply(open_job.id, ALICE, "direct", ME)
    for to in OPEN_STATES[1 : OPEN_STATES.index(reached) + 1]:
        app = await apps.advance(app.id, to, None, ME)
    assert app.status is reached
    rejected = await apps.advance(app.id, S.REJECTED, "not a fit", ME)
    assert rejected.status is S.REJECTED
    for to in S:
        with pytest.raises(InvalidTransition) as exc:
            await apps.advance(app.id, to, None, ME)
        assert (exc.value.current, exc.value.allowed) == ("rejected", ())
    history = (await apps.history([app.id]))[app.id]
    assert (history[-1].from_status, history[-1].to_status) == (reached, S.REJECTED)
    assert len(await db.events()) == len(history)


async def test_an_illegal_move_changes_nothing(
    open_job: Job, apps: PgApplicationWriter, db: Db
) -> None:
    app = await apps.apply(open_job.id, ALICE, "direct", ME)
    for to in (S.INTERVIEW, S.HIRED, S.APPLIED):
        with pytest.raises(InvalidTransition) as exc:
            await apps.advance(app.id, to, None, ME)
        assert exc.value.current == "applied"
        assert exc.value.allowed == ("screening", "rejected", "withdrawn")
    with pytest.raises(NotFound):
        await apps.advance(404, S.SCREENING, None, ME)
    with pytest.raises(ValidationFailed):
        await apps.advance(app.id, S.SCREENING, "x" * 2001, ME)
    (row,) = await db.rows("SELECT status::text, updated_at FROM applications")
    assert tuple(row) == ("applied", app.updated_at)
    assert await db.count("application_history") == 1
    assert len(await db.events()) == 1


async def test_concurrent_moves_from_one_status_only_one_wins(
    open_job: Job, apps: PgApplicationWriter, db: Db
) -> None:
    app = await apps.apply(open_job.id, ALICE, "direct", ME)
    holder = await asyncpg.connect(db.dsn)
    try:
        # Hold the row so that both moves are in flight before either can proceed.
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM applications WHERE id = $1 FOR UPDATE", app.id)
        moves = [
            asyncio.create_task(apps.advance(app.id, S.SCREENING, None, Actor(f"user:{n}")))
            for n in (1, 2)
        ]
        for _ in range(200):
            # Statistics are a snapshot per transaction (the holder is in one): refresh.
            await holder.execute("SELECT pg_stat_clear_snapshot()")
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting == 2:
                break
            await asyncio.sleep(0.025)
        await tx.commit()
        results = await asyncio.gather(*moves, return_exceptions=True)
    finally:
        await holder.close()
    assert waiting == 2  # both moves were blocked on the row at once
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1
    assert won[0].status is S.SCREENING
    assert len(lost) == 1
    assert isinstance(lost[0], InvalidTransition)
    assert lost[0].current == "screening"
    history = (await apps.history([app.id]))[app.id]
    assert [h.to_status for h in history] == [S.APPLIED, S.SCREENING]
    assert [e[3]["to"] for e in await db.events()] == ["applied", "screening"]


async def test_history_of_many_is_one_statement(open_job: Job, apps: PgApplicationWriter) -> None:
    a = await apps.apply(open_job.id, ALICE, "direct", ME)
    b = await apps.apply(open_job.id, BOB, "direct", ME)
    await apps.advance(b.id, S.WITHDRAWN, "moved on", Actor(None))
    with statements() as log:
        got = await apps.history([b.id, 404, a.id])
    assert log.postgres == 1
    assert list(got) == [b.id, 404, a.id]
    assert got[404] == []
    assert [h.to_status for h in got[a.id]] == [S.APPLIED]
    assert [(h.to_status, h.by, h.note) for h in got[b.id]] == [
        (S.APPLIED, ME.subject, None),
        (S.WITHDRAWN, None, "moved on"),
    ]
    assert await apps.history([]) == {}


# -- after a seed ------------------------------------------------------------------------


async def test_writes_after_a_seeded_database(
    pg_url: str,
    companies: PgCompanyWriter,
    jobs: PgJobWriter,
    apps: PgApplicationWriter,
    db: Db,
) -> None:
    """The seed writes explicit ids; new rows must take the next ones, not collide."""
    data = Dataset.build(Scale(companies=6, jobs=40, candidates=60, applications=150), seed=5)
    conn = await asyncpg.connect(db.dsn)
    try:
        async with conn.transaction():
            await load_postgres(conn, data, {t: lambda n: None for t in TABLES}, reset=False)
    finally:
        await conn.close()
    company = await companies.create(NewCompany("brand-new", "Brand New", "Software"), ME)
    assert company.id == 7
    new = replace(NEW_JOB, company_id=company.id, publish=True)
    job = await jobs.post(new, ME)
    assert job.id == 41
    app = await apps.apply(job.id, ALICE, "direct", ME)
    assert app.id == 151
    (seeded,) = await db.rows(
        "SELECT id FROM applications WHERE status = 'applied' ORDER BY id LIMIT 1"
    )
    moved = await apps.advance(seeded["id"], S.SCREENING, None, ME)
    assert moved.status is S.SCREENING
    # A seeded application has no history before its first move through the writer.
    assert [h.from_status for h in (await apps.history([seeded["id"]]))[seeded["id"]]] == [
        S.APPLIED
    ]
    assert [e[0] for e in await db.events()] == [
        "CompanyCreated", "JobPosted", "ApplicationSubmitted", "ApplicationStatusChanged",
    ]  # fmt: skip
