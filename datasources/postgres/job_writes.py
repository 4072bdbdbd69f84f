"""PostgreSQL job writes: one transaction each, with its event in the outbox.

Status moves are conditional UPDATEs (`WHERE status IN (...)`), so two concurrent moves
cannot both pass a check made on a stale read; a statement that matches no row is told
apart (missing job or wrong status) in the same transaction. `search` is a generated
column (migration 0001): Postgres recomputes it from title and description on every
insert and update, so it is never written here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from datasources.postgres.jobs import JOB_COLUMNS
from datasources.postgres.outbox import add_events
from datasources.postgres.rows import job_from_row
from datasources.postgres.tables import jobs
from datasources.postgres.writes import maybe_row, one_row, translated
from domain.commands import Actor, Changes, NewJob
from domain.enums import JobStatus
from domain.errors import Conflict, NotFound
from domain.events import JOB_CLOSED, JOB_POSTED, JOB_PUBLISHED, JOB_UPDATED, DomainEvent
from domain.records import Job
from domain.validation import validate_job_changes, validate_new_job

_CHANGEABLE = (JobStatus.DRAFT, JobStatus.OPEN)  # a CLOSED job is final


def job_event(kind: str, job: Job, changed: Iterable[str], actor: Actor) -> DomainEvent:
    payload = {
        "job_id": job.id,
        "company_id": job.company_id,
        "status": job.status.value,
        "title": job.title,
        "changed": sorted(changed),
        "by": actor.subject,
    }
    return DomainEvent(kind, str(job.id), payload, occurred_at=job.updated_at)


def _missing(job_id: int) -> NotFound:
    return NotFound(f"job {job_id} not found")


class PgJobWriter:
    """`JobWriter` over the SQLAlchemy engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def post(self, new: NewJob, actor: Actor) -> Job:
        """A DRAFT job, or OPEN (posted now) when `new.publish`: JobPosted. NotFound
        when the company does not exist."""
        new = validate_new_job(new)
        values = {f.name: getattr(new, f.name) for f in fields(new) if f.name != "publish"}
        values["skills"] = list(new.skills)
        values["status"] = JobStatus.OPEN if new.publish else JobStatus.DRAFT
        values["posted_at"] = func.now() if new.publish else None
        stmt = insert(jobs).values(**values).returning(*JOB_COLUMNS)
        try:
            async with self._engine.begin() as conn:
                job = job_from_row(one_row(await conn.execute(stmt)))
                await add_events(conn, [job_event(JOB_POSTED, job, (), actor)])
        except IntegrityError as e:
            missing = NotFound(f"company {new.company_id} not found")
            raise translated(e, {"jobs_company_id_fkey": missing}) from None
        return job

    async def update(self, job_id: int, changes: Changes, actor: Actor) -> Job:
        """JobUpdated with the changed field names. An empty patch changes nothing and
        publishes nothing. NotFound; Conflict when the job is CLOSED."""
        changes = validate_job_changes(changes)
        values: dict[str, Any] = dict(changes.values)
        if "skills" in values:
            values["skills"] = list(values["skills"])
        if not values:
            return await self._unchanged(job_id)
        changed = sorted(values)
        return await self._move(job_id, _CHANGEABLE, values, JOB_UPDATED, lambda _: changed, actor)

    async def publish(self, job_id: int, actor: Actor) -> Job:
        """DRAFT -> OPEN, posted now: JobPublished. Conflict unless DRAFT."""
        values = {"status": JobStatus.OPEN, "posted_at": func.now()}
        return await self._move(
            job_id, (JobStatus.DRAFT,), values, JOB_PUBLISHED, lambda _: sorted(values), actor
        )

    async def close(self, job_id: int, actor: Actor) -> Job:
        """DRAFT or OPEN -> CLOSED: JobClosed. Conflict when already CLOSED.

        A closed draft gets posted_at = now: only drafts may lack it (a CHECK), which the
        readers' keyset paging over posted_at relies on."""
        values = {
            "status": JobStatus.CLOSED,
            "posted_at": func.coalesce(jobs.c.posted_at, func.now()),
        }
        return await self._move(job_id, _CHANGEABLE, values, JOB_CLOSED, _closed_fields, actor)

    async def _move(
        self,
        job_id: int,
        when: Collection[JobStatus],
        values: Mapping[str, Any],
        kind: str,
        changed: Callable[[Job], Iterable[str]],
        actor: Actor,
    ) -> Job:
        """Set `values` if the job's status is one of `when`, with the event `kind` naming
        the fields `changed` finds changed in the result."""
        stmt = (
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status.in_(list(when)))
            .values(**values, updated_at=func.now())
            .returning(*JOB_COLUMNS)
        )
        try:
            async with self._engine.begin() as conn:
                row = maybe_row(await conn.execute(stmt))
                if row is None:
                    raise await _refusal(conn, job_id, when)
                job = job_from_row(row)
                await add_events(conn, [job_event(kind, job, changed(job), actor)])
        except IntegrityError as e:
            raise translated(e) from None
        return job

    async def _unchanged(self, job_id: int) -> Job:
        """The job as it is, for an empty patch: NotFound, or Conflict when CLOSED."""
        async with self._engine.connect() as conn:
            stmt = select(*JOB_COLUMNS).where(jobs.c.id == job_id)
            row = maybe_row(await conn.execute(stmt))
        if row is None:
            raise _missing(job_id)
        job = job_from_row(row)
        if job.status not in _CHANGEABLE:
            raise Conflict(f"job {job_id} is {job.status.value}")
        return job


def _closed_fields(job: Job) -> list[str]:
    # posted_at equals updated_at only when both are this transaction's now(): a closed
    # draft (an OPEN job was posted by an earlier transaction, with an earlier now()).
    return ["posted_at", "status"] if job.posted_at == job.updated_at else ["status"]


async def _refusal(
    conn: AsyncConnection, job_id: int, when: Collection[JobStatus]
) -> NotFound | Conflict:
    """Why a conditional move matched no row: the job is missing, or in another status."""
    status = await conn.scalar(select(jobs.c.status).where(jobs.c.id == job_id))
    if status is None:
        return _missing(job_id)
    wanted = " or ".join(s.value for s in when)
    return Conflict(f"job {job_id} is {JobStatus(status).value}, not {wanted}")
