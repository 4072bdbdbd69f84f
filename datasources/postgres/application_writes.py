"""PostgreSQL application writes: submissions, status moves and their history.

Each write is one transaction holding the application row, its history row and its
outbox event. A move locks the application (`SELECT ... FOR UPDATE`) before checking
the pipeline (domain.applications), so of two concurrent moves from the same status
the second sees the first's result and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.outbox import add_events
from datasources.postgres.rows import application_from_row
from datasources.postgres.writes import (
    UNIQUE_VIOLATION,
    all_rows,
    maybe_row,
    one_row,
    translated,
    violation,
)
from domain.applications import allowed_moves, can_move
from domain.commands import Actor, StatusChange
from domain.enums import ApplicationStatus
from domain.errors import AlreadyApplied, Conflict, InvalidTransition, NotFound
from domain.events import APPLICATION_STATUS_CHANGED, APPLICATION_SUBMITTED, DomainEvent
from domain.records import Application
from domain.validation import validate_note

# The job (share-locked, so it cannot close meanwhile), the application inserted only if
# the job is open, and its first history row; a missing job gives no row, a job that is
# not open a row without an application.
_APPLY = text("""
WITH j AS (
    SELECT id, company_id, status FROM jobs WHERE id = :job_id FOR SHARE
), a AS (
    INSERT INTO applications (job_id, candidate_id, status, source)
    SELECT id, CAST(:candidate_id AS varchar), 'applied', CAST(:source AS text)
    FROM j WHERE status = 'open'
    RETURNING *
), h AS (
    INSERT INTO application_history (application_id, from_status, to_status, at, by_subject)
    SELECT id, NULL, status, applied_at, CAST(:by AS text) FROM a
)
SELECT j.company_id, j.status AS job_status, a.*
FROM j LEFT JOIN a ON true
""")
_LOCK = text("""
SELECT a.id, a.job_id, a.candidate_id, a.status, j.company_id
FROM applications a JOIN jobs j ON j.id = a.job_id
WHERE a.id = :id
FOR UPDATE OF a
""")
_MOVE = text("""
WITH a AS (
    UPDATE applications SET status = CAST(:to AS application_status), updated_at = now()
    WHERE id = :id
    RETURNING *
), h AS (
    INSERT INTO application_history
        (application_id, from_status, to_status, at, by_subject, note)
    SELECT id, CAST(:from AS application_status), status, updated_at, CAST(:by AS text),
           CAST(:note AS text)
    FROM a
)
SELECT * FROM a
""")
_EXISTING = text("SELECT id FROM applications WHERE job_id = :j AND candidate_id = :c")
_HISTORY = text("""
SELECT application_id, from_status, to_status, at, by_subject, note
FROM application_history
WHERE application_id = ANY(CAST(:ids AS bigint[]))
ORDER BY application_id, id
""")


def application_event(
    kind: str, app: Application, company_id: int, before: ApplicationStatus | None,
    note: str | None, actor: Actor,
) -> DomainEvent:  # fmt: skip
    payload: dict[str, Any] = {
        "application_id": app.id,
        "job_id": app.job_id,
        "company_id": company_id,
        "candidate_id": app.candidate_id,
        "from": None if before is None else before.value,
        "to": app.status.value,
        "note": note,
        "by": actor.subject,
    }
    return DomainEvent(kind, str(app.id), payload, occurred_at=app.updated_at)


class PgApplicationWriter:
    """`ApplicationWriter` over the SQLAlchemy engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def apply(self, job_id: int, candidate_id: str, source: str, actor: Actor) -> Application:
        """An APPLIED application, its first history row and ApplicationSubmitted. The
        candidate's existence is the caller's to check (it lives in Mongo). NotFound
        (job), Conflict (job not OPEN), AlreadyApplied (with the existing application's
        id)."""
        params = {"job_id": job_id, "candidate_id": candidate_id, "source": source}
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(_APPLY, {**params, "by": actor.subject})
                row = maybe_row(result)
                if row is None:
                    raise NotFound(f"job {job_id} not found")
                if row["id"] is None:
                    raise Conflict(f"job {job_id} is {row['job_status']}, not open")
                app = application_from_row(row)
                event = application_event(
                    APPLICATION_SUBMITTED, app, row["company_id"], None, None, actor
                )
                await add_events(conn, [event])
        except IntegrityError as e:
            if violation(e) != (UNIQUE_VIOLATION, "uq_applications_job_candidate"):
                raise translated(e) from None
            existing = await self._existing(job_id, candidate_id)
            message = f"candidate {candidate_id} already applied to job {job_id}"
            raise AlreadyApplied(message, existing) from None
        return app

    async def _existing(self, job_id: int, candidate_id: str) -> int | None:
        """The application a duplicate ran into (None if it is gone since)."""
        async with self._engine.connect() as conn:
            found: int | None = await conn.scalar(_EXISTING, {"j": job_id, "c": candidate_id})
        return found

    async def advance(
        self, application_id: int, to: ApplicationStatus, note: str | None, actor: Actor
    ) -> Application:
        """A legal move, a history row and ApplicationStatusChanged. NotFound;
        InvalidTransition with the allowed moves."""
        note = validate_note(note)
        async with self._engine.begin() as conn:
            locked = maybe_row(await conn.execute(_LOCK, {"id": application_id}))
            if locked is None:
                raise NotFound(f"application {application_id} not found")
            current = ApplicationStatus(locked["status"])
            if not can_move(current, to):
                allowed = tuple(s.value for s in allowed_moves(current))
                raise InvalidTransition(
                    f"an application in {current.value} cannot move to {to.value}",
                    current.value,
                    allowed,
                )
            params = {"id": application_id, "to": to.value, "from": current.value}
            result = await conn.execute(_MOVE, {**params, "by": actor.subject, "note": note})
            app = application_from_row(one_row(result))
            event = application_event(
                APPLICATION_STATUS_CHANGED, app, locked["company_id"], current, note, actor
            )
            await add_events(conn, [event])
        return app

    async def history(self, application_ids: Sequence[int]) -> dict[int, list[StatusChange]]:
        """Every application's status changes, oldest first (empty list for none)."""
        found: dict[int, list[StatusChange]] = {i: [] for i in application_ids}
        if not found:
            return found
        async with self._engine.connect() as conn:
            rows = all_rows(await conn.execute(_HISTORY, {"ids": list(found)}))
        for r in rows:
            found[r["application_id"]].append(_change(r))
        return found


def _change(r: Mapping[str, Any]) -> StatusChange:
    before = r["from_status"]
    return StatusChange(
        from_status=None if before is None else ApplicationStatus(before),
        to_status=ApplicationStatus(r["to_status"]),
        at=r["at"],
        by=r["by_subject"],
        note=r["note"],
    )
