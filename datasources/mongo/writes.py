"""MongoDB write adapter for candidate profiles (`CandidateWriter`), with a Mongo outbox.

Design: every profile change and the domain event describing it are written in ONE
multi-document transaction: the profile in `candidates`, the event in `outbox` (see
`datasources.mongo.outbox`). Either both commit or neither does, so an event is never
lost (a process dying right after the commit leaves the event pending for the relay)
and never invented (an aborted change leaves no event). The relay publishes pending
documents at least once; consumers deduplicate by `event_id`.

Why not the alternative, a change stream on `candidates` with a persisted resume token:
the token outlives the oplog window only so long, a stream sees the stored document but
not who changed it or which parts the patch meant to change, and a second process (the
streamer) would have to be running for events to exist at all. SecantusDB, the
Mongo-wire server the tests and `hiregraph serve` use, advertises a single-node replica
set and implements the transaction protocol (snapshot reads, `WriteConflict` with the
`TransientTransactionError` label, idempotent commit), which is all this needs; a real
deployment needs a replica set (or sharded cluster) for the same reason.

Transactions run through `AsyncClientSession.with_transaction`, which retries the whole
callback on a transient error (a concurrent writer touched the same profile) and the
commit on an unknown commit result. Each attempt re-reads the profile in its snapshot,
so a retried update whose `expected_version` has gone stale fails with Conflict, and of
two updates racing with the same `expected_version` exactly one commits.

An update reads the profile first, inside the transaction: upserting skills by name,
recomputing `years_experience` and the search tokens, and the attribute limits after
merging all need the current profile. The write itself is guarded by
`{_id, version: expected_version}` and bumps `version` with `$inc`.

A client that dies between its writes and the commit leaves the transaction open on the
server, holding its writes (other writers of that profile get WriteConflict and retry)
until the server aborts it at its lifetime limit (60 s on mongod and SecantusDB).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from datasources.mongo.bootstrap import CANDIDATES
from datasources.mongo.codec import (
    bson_date,
    candidate_from_doc,
    doc_from_new,
    part_doc,
    search_terms,
)
from datasources.mongo.outbox import insert_event
from datasources.mongo.repositories import parse_object_id
from domain.commands import Actor, NewCandidate, ProfilePatch
from domain.errors import Conflict, NotFound, UpstreamUnavailable
from domain.events import CANDIDATE_CREATED, CANDIDATE_PROFILE_UPDATED, DomainEvent
from domain.profile_patch import (
    ProfileChange,
    apply_patch,
    created_parts,
    validate_new,
    validate_patch,
    years_of_experience,
)
from domain.records import Candidate

T = TypeVar("T")
Work = Callable[[AsyncClientSession], Awaitable[T]]


def _now() -> datetime:
    return datetime.now(UTC)


def update_doc(current: Candidate, change: ProfileChange, now: datetime) -> dict[str, Any]:
    """The update operators for `change`: `$set` parts, `$unset` attribute keys, `$inc`."""
    sets = {name: part_doc(name, value) for name, value in change.values.items()}
    if "name" in change.values or "headline" in change.values:
        name = change.values.get("name", current.name)
        headline = change.values.get("headline", current.headline)
        sets["search_terms"] = search_terms(name, headline)
    # Keys are checked against ^[A-Za-z_][A-Za-z0-9_]{0,63}$, so they are safe path segments.
    sets.update({f"attributes.{k}": v for k, v in change.attributes_set.items()})
    sets["updated_at"] = now
    update: dict[str, Any] = {"$set": sets, "$inc": {"version": 1}}
    if change.attributes_unset:
        update["$unset"] = {f"attributes.{k}": "" for k in change.attributes_unset}
    return update


def _event(kind: str, candidate: Candidate, changed: tuple[str, ...], actor: Actor) -> DomainEvent:
    payload = {
        "candidate_id": candidate.id,
        "version": candidate.version,
        "changed": list(changed),
        "actor": actor.subject,
    }
    return DomainEvent(kind, candidate.id, payload, occurred_at=candidate.updated_at)


class MongoCandidateWriter:
    """`CandidateWriter` over the `candidates` and `outbox` collections of `db`.

    `client` must be the client `db` belongs to (sessions are per client). `clock` is
    the time source for `created_at` / `updated_at` (tests pass a fixed one).
    """

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        db: AsyncDatabase[dict[str, Any]],
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._client = client
        self._db = db
        self._candidates = db[CANDIDATES]
        self._clock = clock

    async def create(self, new: NewCandidate, actor: Actor) -> Candidate:
        new = validate_new(new)
        now = bson_date(self._clock())
        years = years_of_experience(new.experience, now)
        doc = {"_id": ObjectId(), **doc_from_new(new, years_experience=years, now=now)}
        candidate = candidate_from_doc(doc)
        event = _event(CANDIDATE_CREATED, candidate, created_parts(new), actor)

        async def work(session: AsyncClientSession) -> None:
            await self._candidates.insert_one(dict(doc), session=session)
            await insert_event(self._db, event, session)

        try:
            await self._transact(work)
        except DuplicateKeyError as exc:
            raise Conflict("email is already in use by another candidate") from exc
        return candidate

    async def update_profile(
        self, candidate_id: str, patch: ProfilePatch, expected_version: int | None, actor: Actor
    ) -> Candidate:
        validate_patch(patch)  # before any I/O; apply_patch re-checks against the profile
        oid = parse_object_id(candidate_id)
        if oid is None:
            raise NotFound(f"candidate {candidate_id!r} not found")

        async def work(session: AsyncClientSession) -> Candidate:
            current = await self._current(oid, candidate_id, session)
            _check_version(expected_version, current.version)
            now = bson_date(self._clock())
            change = apply_patch(current, patch, now)
            query: dict[str, Any] = {"_id": oid}
            if expected_version is not None:
                query["version"] = expected_version
            after = await self._candidates.find_one_and_update(
                query,
                update_doc(current, change, now),
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if after is None:  # the snapshot read above makes this rare; same answers
                raise await self._no_match(oid, candidate_id, expected_version, session)
            updated = candidate_from_doc(after)
            event = _event(CANDIDATE_PROFILE_UPDATED, updated, change.changed, actor)
            await insert_event(self._db, event, session)
            return updated

        try:
            return await self._transact(work)
        except DuplicateKeyError as exc:
            raise Conflict("email is already in use by another candidate") from exc

    async def _current(
        self, oid: ObjectId, candidate_id: str, session: AsyncClientSession
    ) -> Candidate:
        doc = await self._candidates.find_one({"_id": oid}, session=session)
        if doc is None:
            raise NotFound(f"candidate {candidate_id!r} not found")
        return candidate_from_doc(doc)

    async def _no_match(
        self,
        oid: ObjectId,
        candidate_id: str,
        expected: int | None,
        session: AsyncClientSession,
    ) -> Exception:
        doc = await self._candidates.find_one({"_id": oid}, {"version": 1}, session=session)
        if doc is None:
            return NotFound(f"candidate {candidate_id!r} not found")
        return Conflict(f"stale version: expected {expected}, current {doc.get('version')}")

    async def _transact(self, work: Work[T]) -> T:
        """Run `work` in a transaction (retried on transient errors) and commit it."""
        try:
            async with self._client.start_session() as session:
                return await session.with_transaction(work)
        except ConnectionFailure as exc:
            raise UpstreamUnavailable("mongo", "the candidate store is unavailable") from exc


def _check_version(expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise Conflict(f"stale version: expected {expected}, current {current}")
