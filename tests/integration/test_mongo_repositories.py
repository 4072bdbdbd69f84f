"""MongoDB adapter and bootstrap against a real Mongo-wire server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError, WriteError

from datasources.mongo.bootstrap import CANDIDATES, bootstrap
from datasources.mongo.repositories import MongoCandidateRepository
from tests.roundtrips import MongoCommands
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def profile(i: int, **over: Any) -> dict[str, Any]:
    doc = {
        "_id": ObjectId(f"{i:024x}"), "name": f"Person {i}", "email": f"p{i}@example.com",
        "skills": [{"name": "python", "level": 4, "years": 3.5}],
        "location": {"city": "Pune", "country": "IN"}, "preferences": {"remote": True},
        "attributes": {"languages": ["en", "hi"], "nested": {"a": 1}},
        "years_experience": 4, "version": 1, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return {**doc, **over}


async def test_get_many_in_key_order_one_find(stores: StoreUrls, mongo_db: Any) -> None:
    await mongo_db[CANDIDATES].insert_many([profile(i) for i in range(1, 6)])
    listener = MongoCommands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stores.mongo, tz_aware=True, event_listeners=[listener]
    )
    try:
        repo = MongoCandidateRepository(client[mongo_db.name])
        ids = [f"{i:024x}" for i in (4, 9, 1)] + ["not-an-id", '{"$ne": null}']
        got = await repo.get_many(ids)
    finally:
        await client.close()
    assert [c.name if c else None for c in got] == ["Person 4", None, "Person 1", None, None]
    assert listener.names == ["find"]
    assert got[0] is not None
    assert got[0].attributes == {"languages": ["en", "hi"], "nested": {"a": 1}}
    assert got[0].created_at.tzinfo is not None


async def test_get_many_with_only_invalid_ids_sends_nothing(mongo_db: Any) -> None:
    got = await MongoCandidateRepository(mongo_db).get_many(["x", "y"])
    assert got == [None, None]


async def test_validator_and_unique_email(mongo_db: Any) -> None:
    coll = mongo_db[CANDIDATES]
    await coll.insert_one(profile(1))
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one(profile(2, email="p1@example.com"))
    with pytest.raises(WriteError):
        await coll.insert_one({k: v for k, v in profile(3).items() if k != "email"})
    with pytest.raises(WriteError):
        await coll.insert_one(profile(4, skills=[{"name": "go", "level": 9}]))


async def test_bootstrap_is_idempotent(mongo_db: Any) -> None:
    await bootstrap(mongo_db)
    await bootstrap(mongo_db)
    names = {ix["name"] async for ix in await mongo_db[CANDIDATES].list_indexes()}
    assert {"uq_email", "ix_skills_name", "ix_location", "ix_search_terms"} <= names
