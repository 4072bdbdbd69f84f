"""MongoCandidateWriter against the real Mongo-wire server: profile and outbox event commit
together or not at all."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from bson.binary import UUID_SUBTYPE, Binary
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from datasources.mongo.bootstrap import CANDIDATES, OUTBOX
from datasources.mongo.outbox import mark_published, pending
from datasources.mongo.repositories import MongoCandidateRepository
from datasources.mongo.writes import MongoCandidateWriter
from domain.commands import Actor, NewCandidate, ProfilePatch, ValidationFailed
from domain.enums import EmploymentType
from domain.errors import Conflict, NotFound
from domain.events import CANDIDATE_CREATED, CANDIDATE_PROFILE_UPDATED, DomainEvent
from domain.records import Candidate, Education, Experience, Link, Location, Money, Preferences
from domain.records import Skill as S
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 1, 9, 30, 15, 123000, tzinfo=UTC)
ACTOR = Actor("user:recruiter-1")
Client = AsyncMongoClient[dict[str, Any]]


class Clock:
    """A second later on every call."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def writer(client: Client, db: Any) -> MongoCandidateWriter:
    return MongoCandidateWriter(client, db, clock=Clock())


def asha(**over: Any) -> NewCandidate:
    base: dict[str, Any] = {
        "name": "Asha Rao", "email": "Asha.Rao@Example.com", "headline": "Backend Engineer",
        "location": Location("Pune", "IN"),
        "skills": (S("python", 4, 5.0), S("sql", 3, 4.5)),
        "experience": (Experience("Acme", "Engineer", datetime(2020, 3, 1, tzinfo=UTC), None),),
        "attributes": {"notice_period_days": 30, "languages": ["en", "hi"]},
    }  # fmt: skip
    return NewCandidate(**{**base, **over})


async def events(db: Any) -> list[dict[str, Any]]:
    return await db[OUTBOX].find().sort("_id", 1).to_list()


async def stored(db: Any, candidate_id: str) -> dict[str, Any]:
    doc = await db[CANDIDATES].find_one({"_id": ObjectId(candidate_id)})
    assert doc is not None
    return doc


async def read(db: Any, candidate_id: str) -> Candidate:
    got = (await MongoCandidateRepository(db).get_many([candidate_id]))[0]
    assert got is not None
    return got


async def test_create_writes_version_1_and_a_created_event(
    mongo_client: Client, mongo_db: Any
) -> None:
    created = await writer(mongo_client, mongo_db).create(asha(), ACTOR)
    at = T0 + timedelta(seconds=1)
    assert (created.version, created.created_at, created.updated_at) == (1, at, at)
    assert created.email == "asha.rao@example.com"
    assert created.years_experience == 6  # 2020-03 .. 2026-11
    assert await read(mongo_db, created.id) == created
    doc = await stored(mongo_db, created.id)
    assert doc["search_terms"] == ["asha", "backend", "engineer", "rao"]
    [event] = await pending(mongo_db, 10)
    assert {k: v for k, v in event.items() if k not in ("_id", "event_id")} == {
        "event_type": CANDIDATE_CREATED, "version": 1, "aggregate_type": "Candidate",
        "aggregate_id": created.id, "occurred_at": at, "published_at": None, "attempts": 0,
        "last_error": None,
        "payload": {"candidate_id": created.id, "version": 1, "actor": "user:recruiter-1",
                    "changed": ["name", "email", "headline", "location", "skills",
                                "experience", "attributes"]},
    }  # fmt: skip
    assert DomainEvent.from_outbox(event).to_message()["payload"]["candidate_id"] == created.id


async def test_duplicate_email_is_a_conflict_and_writes_no_event(
    mongo_client: Client, mongo_db: Any
) -> None:
    w = writer(mongo_client, mongo_db)
    await w.create(asha(), ACTOR)
    with pytest.raises(Conflict, match="email"):
        await w.create(asha(name="Other Person", email=" asha.rao@example.COM"), ACTOR)
    assert await mongo_db[CANDIDATES].count_documents({}) == 1
    assert [e["event_type"] for e in await events(mongo_db)] == [CANDIDATE_CREATED]


async def test_invalid_new_candidate_writes_nothing(mongo_client: Client, mongo_db: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        await writer(mongo_client, mongo_db).create(
            asha(email="nope", skills=(S("go", 9, 1),)), ACTOR
        )
    assert {e.path for e in exc.value.errors} == {
        ("input", "email"),
        ("input", "skills", "0", "level"),
    }
    assert await mongo_db[CANDIDATES].count_documents({}) == 0
    assert await events(mongo_db) == []


async def update(
    client: Client, db: Any, patch: ProfilePatch, expected: int | None = 1
) -> tuple[Candidate, Candidate, dict[str, Any]]:
    """Create Asha, apply `patch`: (before, after, the update's outbox document)."""
    w = writer(client, db)
    before = await w.create(asha(), ACTOR)
    after = await w.update_profile(before.id, patch, expected, ACTOR)
    assert after == await read(db, before.id)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    assert after.created_at == before.created_at
    created, updated = await pending(db, 10)
    assert (created["event_type"], updated["event_type"]) == (
        CANDIDATE_CREATED,
        CANDIDATE_PROFILE_UPDATED,
    )
    assert updated["payload"]["version"] == after.version
    assert updated["occurred_at"] == after.updated_at
    return before, after, updated


async def test_update_scalars(mongo_client: Client, mongo_db: Any) -> None:
    patch = ProfilePatch(
        set_fields={"name": "Asha Kulkarni", "email": "asha.k@example.com", "phone": "+91 1",
                    "headline": "Staff Engineer", "location": Location("Mumbai", None)},
    )  # fmt: skip
    before, after, event = await update(mongo_client, mongo_db, patch)
    assert (after.name, after.email, after.phone, after.headline) == (
        "Asha Kulkarni", "asha.k@example.com", "+91 1", "Staff Engineer"
    )  # fmt: skip
    assert after.location == Location("Mumbai", None)
    assert (after.skills, after.attributes) == (before.skills, before.attributes)
    assert event["payload"]["changed"] == ["name", "email", "phone", "headline", "location"]
    doc = await stored(mongo_db, after.id)
    assert doc["search_terms"] == ["asha", "engineer", "kulkarni", "staff"]


async def test_update_skills_upsert_and_remove_by_name(mongo_client: Client, mongo_db: Any) -> None:
    patch = ProfilePatch(
        skills_upsert=(S("go", 2, 1.0), S("python", 5, 6.0)), skills_remove=("sql",)
    )
    _, after, event = await update(mongo_client, mongo_db, patch)
    assert after.skills == (S("python", 5, 6.0), S("go", 2, 1.0))
    assert event["payload"]["changed"] == ["skills"]


async def test_update_replaces_lists_and_recomputes_years(
    mongo_client: Client, mongo_db: Any
) -> None:
    history = (
        Experience("Beta", "Intern", datetime(2023, 1, 1, tzinfo=UTC),
                   datetime(2024, 1, 1, tzinfo=UTC), ("Shipped the thing",)),
        Experience("Gamma", "Engineer", datetime(2024, 1, 1, tzinfo=UTC), None),
    )  # fmt: skip
    patch = ProfilePatch(
        experience=history,
        education=(Education("IIT Bombay", "BTech", "CS", 2016, 2020),),
        links=(Link("github", "https://github.com/asha"),),
    )
    _, after, event = await update(mongo_client, mongo_db, patch)
    assert after.experience == history
    assert after.years_experience == 3  # 2023-01 .. 2026-11
    assert after.education == (Education("IIT Bombay", "BTech", "CS", 2016, 2020),)
    assert after.links == (Link("github", "https://github.com/asha"),)
    assert event["payload"]["changed"] == ["experience", "education", "links"]
    emptied = ProfilePatch(experience=(), links=())
    again = await writer(mongo_client, mongo_db).update_profile(after.id, emptied, 2, ACTOR)
    assert (again.experience, again.links, again.years_experience) == ((), (), 0)
    assert again.education == after.education


async def test_update_preferences(mongo_client: Client, mongo_db: Any) -> None:
    prefs = Preferences(
        remote=True, locations=("Pune", "Remote"), salary_expectation=Money(4_000_000, "INR"),
        employment_types=(EmploymentType.FULL_TIME, EmploymentType.CONTRACT),
    )  # fmt: skip
    _, after, event = await update(mongo_client, mongo_db, ProfilePatch(preferences=prefs))
    assert after.preferences == prefs
    assert event["payload"]["changed"] == ["preferences"]


async def test_update_attributes_set_and_unset_keys(mongo_client: Client, mongo_db: Any) -> None:
    patch = ProfilePatch(
        attributes_set={"visa": {"status": "H1B", "expires": {"year": 2028, "tags": ["a", 1]}},
                        "languages": ["en"]},
        attributes_unset=("notice_period_days", "never_set"),
    )  # fmt: skip
    _, after, event = await update(mongo_client, mongo_db, patch)
    assert after.attributes == {
        "languages": ["en"],
        "visa": {"status": "H1B", "expires": {"year": 2028, "tags": ["a", 1]}},
    }
    assert "notice_period_days" not in (await stored(mongo_db, after.id))["attributes"]
    assert event["payload"]["changed"] == ["attributes"]


async def test_update_without_expected_version_still_bumps_it(
    mongo_client: Client, mongo_db: Any
) -> None:
    _, after, _ = await update(
        mongo_client, mongo_db, ProfilePatch(set_fields={"summary": "Hi"}), None
    )
    assert (after.summary, after.version) == ("Hi", 2)


async def test_stale_version_is_a_conflict_and_writes_nothing(
    mongo_client: Client, mongo_db: Any
) -> None:
    w = writer(mongo_client, mongo_db)
    created = await w.create(asha(), ACTOR)
    await w.update_profile(created.id, ProfilePatch(set_fields={"summary": "v2"}), 1, ACTOR)
    before = await stored(mongo_db, created.id)
    with pytest.raises(Conflict, match="stale version: expected 1, current 2"):
        await w.update_profile(created.id, ProfilePatch(set_fields={"summary": "v3"}), 1, ACTOR)
    assert await stored(mongo_db, created.id) == before
    assert len(await events(mongo_db)) == 2


async def test_not_found(mongo_client: Client, mongo_db: Any) -> None:
    w = writer(mongo_client, mongo_db)
    patch = ProfilePatch(set_fields={"summary": "x"})
    for missing in (str(ObjectId()), "not-an-id", '{"$ne": null}'):
        with pytest.raises(NotFound):
            await w.update_profile(missing, patch, None, ACTOR)
    assert await events(mongo_db) == []


async def test_empty_patch_is_refused(mongo_client: Client, mongo_db: Any) -> None:
    w = writer(mongo_client, mongo_db)
    created = await w.create(asha(), ACTOR)
    with pytest.raises(ValidationFailed, match="nothing to change"):
        await w.update_profile(created.id, ProfilePatch(), 1, ACTOR)
    assert (await read(mongo_db, created.id)).version == 1


async def test_concurrent_updates_with_one_expected_version_one_wins(
    mongo_client: Client, mongo_db: Any
) -> None:
    w = writer(mongo_client, mongo_db)
    created = await w.create(asha(), ACTOR)
    patches = [ProfilePatch(set_fields={"summary": f"writer {i}"}) for i in range(5)]
    results = await asyncio.gather(
        *(w.update_profile(created.id, p, 1, ACTOR) for p in patches), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, Candidate)]
    lost = [r for r in results if not isinstance(r, Candidate)]
    assert len(won) == 1
    assert all(isinstance(r, Conflict) for r in lost), lost
    final = await read(mongo_db, created.id)
    assert final == won[0]
    assert final.version == 2
    updates = [e for e in await events(mongo_db) if e["event_type"] == CANDIDATE_PROFILE_UPDATED]
    assert [e["payload"]["version"] for e in updates] == [2]


async def test_failed_outbox_insert_rolls_back_the_profile_change(
    mongo_client: Client, mongo_db: Any
) -> None:
    w = writer(mongo_client, mongo_db)
    created = await w.create(asha(), ACTOR)
    before = await stored(mongo_db, created.id)
    # From now on the server refuses every outbox document: the insert that follows the
    # profile update inside the transaction fails.
    await mongo_db.command(
        "collMod", OUTBOX, validator={"$jsonSchema": {"required": ["no_such_field"]}}
    )
    with pytest.raises(PyMongoError):
        await w.update_profile(created.id, ProfilePatch(set_fields={"summary": "lost"}), 1, ACTOR)
    assert await stored(mongo_db, created.id) == before
    with pytest.raises(PyMongoError):
        await w.create(asha(email="second@example.com"), ACTOR)
    assert await mongo_db[CANDIDATES].count_documents({}) == 1
    assert len(await events(mongo_db)) == 1


async def test_pending_in_id_order_and_mark_published(mongo_client: Client, mongo_db: Any) -> None:
    w = writer(mongo_client, mongo_db)
    for n in range(3):
        await w.create(asha(email=f"p{n}@example.com"), ACTOR)
    first, second, third = await pending(mongo_db, 10)
    assert first["_id"] < second["_id"] < third["_id"]
    assert [d["_id"] for d in await pending(mongo_db, 2)] == [first["_id"], second["_id"]]
    assert await mark_published(mongo_db, [first["_id"], third["_id"]]) == 2
    assert await mark_published(mongo_db, [first["_id"]]) == 0
    assert [d["_id"] for d in await pending(mongo_db, 10)] == [second["_id"]]
    published = await mongo_db[OUTBOX].find_one({"_id": first["_id"]})
    assert published["published_at"] is not None


CRASH = """
import asyncio, os, sys
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from datasources.mongo.writes import MongoCandidateWriter
from domain.commands import Actor, ProfilePatch

url, db_name, candidate_id, when = sys.argv[1:5]
commit = AsyncClientSession.commit_transaction

async def dying_commit(self):
    print(self.session_id["id"].hex(), flush=True)  # the test ends what we leave open
    if when == "before":
        os._exit(17)
    await commit(self)
    os._exit(17)  # committed; nothing after this runs

AsyncClientSession.commit_transaction = dying_commit

async def main():
    client = AsyncMongoClient(url, tz_aware=True)
    patch = ProfilePatch(set_fields={"headline": "Written before the crash"})
    await MongoCandidateWriter(client, client[db_name]).update_profile(
        candidate_id, patch, 1, Actor("user:crash"))

asyncio.run(main())
sys.exit(3)
"""


async def crash_during_update(
    stores: StoreUrls, root: Path, db: Any, candidate_id: str, when: str
) -> dict[str, Binary]:
    """Run an update in a child process that dies at its commit; returns its session id."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASH, stores.mongo, db.name, candidate_id, when, cwd=root,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 17, err.decode()
    return {"id": Binary(bytes.fromhex(out.decode().strip()), UUID_SUBTYPE)}


async def kill_session(client: Client, lsid: dict[str, Binary]) -> None:
    """What the server does to a dead client's open transaction once its lifetime
    (60 s) is up, done now: until then it holds its writes (and blocks dropping the db)."""
    await client.admin.command({"killSessions": [lsid]})


async def test_process_killed_right_after_commit_leaves_the_event_pending(
    stores: StoreUrls, repo_root: Path, mongo_client: Client, mongo_db: Any
) -> None:
    created = await writer(mongo_client, mongo_db).create(asha(), ACTOR)
    await mark_published(mongo_db, [d["_id"] for d in await pending(mongo_db, 10)])
    await crash_during_update(stores, repo_root, mongo_db, created.id, "after")
    after = await read(mongo_db, created.id)
    assert (after.headline, after.version) == ("Written before the crash", 2)
    [event] = await pending(mongo_db, 10)
    assert event["event_type"] == CANDIDATE_PROFILE_UPDATED
    assert event["payload"] == {
        "candidate_id": created.id, "version": 2, "changed": ["headline"], "actor": "user:crash"
    }  # fmt: skip
    assert event["published_at"] is None


async def test_process_killed_before_commit_leaves_neither(
    stores: StoreUrls, repo_root: Path, mongo_client: Client, mongo_db: Any
) -> None:
    created = await writer(mongo_client, mongo_db).create(asha(), ACTOR)
    before = await stored(mongo_db, created.id)
    lsid = await crash_during_update(stores, repo_root, mongo_db, created.id, "before")
    try:
        assert await stored(mongo_db, created.id) == before
        assert len(await events(mongo_db)) == 1
    finally:
        await kill_session(mongo_client, lsid)
    assert await stored(mongo_db, created.id) == before
    assert len(await events(mongo_db)) == 1
