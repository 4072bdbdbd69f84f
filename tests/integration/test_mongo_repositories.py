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
from domain.queries import (
    CandidateFilter,
    CandidateOrder,
    CandidateOrderField,
    Direction,
    PageRequest,
)
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


def _person(i: int, skills: list[tuple[str, int]], **over: Any) -> dict[str, Any]:
    return profile(
        i,
        skills=[{"name": n, "level": lvl, "years": 1.0} for n, lvl in skills],
        updated_at=NOW.replace(minute=i % 60),
        **{"location": {"city": "Mumbai", "country": "IN"}, **over},
    )


async def _seed_people(mongo_db: Any) -> None:
    await mongo_db[CANDIDATES].insert_many([
        _person(1, [("python", 5), ("kafka", 3)], name="Asha Rao",
                search_terms=["asha", "rao", "backend"]),
        _person(2, [("python", 2)], name="Ravi Kumar", search_terms=["ravi", "kumar"],
                location={"city": "Pune", "country": "IN"}, years_experience=9),
        _person(3, [("go", 4), ("kafka", 5)], name="Mei Lin", search_terms=["mei", "lin"],
                location={"city": "Singapore", "country": "SG"}, preferences={"remote": False}),
        _person(4, [("python", 4), ("go", 4)], name="Ash Ketchum", search_terms=["ash", "ketchum"]),
    ])  # fmt: skip


async def test_candidate_filters(mongo_db: Any) -> None:
    await _seed_people(mongo_db)
    repo = MongoCandidateRepository(mongo_db)

    async def names(**kw: Any) -> list[str]:
        page = await repo.search(CandidateFilter(**kw), CandidateOrder(), PageRequest(10))
        return sorted(c.name for c in page.items)

    assert await names(skills_all=("python",), min_skill_level=4) == ["Ash Ketchum", "Asha Rao"]
    assert await names(skills_any=("Go", "rust")) == ["Ash Ketchum", "Mei Lin"]
    assert await names(skills_all=("python", "kafka")) == ["Asha Rao"]
    assert await names(min_years_experience=5) == ["Ravi Kumar"]
    assert await names(countries=("sg",)) == ["Mei Lin"]
    assert await names(cities=("pune",)) == ["Ravi Kumar"]
    assert await names(open_to_remote=False) == ["Mei Lin"]
    assert await names(search="ash") == ["Ash Ketchum", "Asha Rao"]
    assert await names(search="asha r") == ["Asha Rao"]
    assert await names(search='{"$ne": null}') == []
    assert await names(cities=(".*",)) == []
    assert await repo.count(CandidateFilter(skills_any=("kafka",))) == 2


async def test_candidate_keyset_pages(mongo_db: Any) -> None:
    await _seed_people(mongo_db)
    repo = MongoCandidateRepository(mongo_db)
    order = CandidateOrder(CandidateOrderField.YEARS_EXPERIENCE, Direction.DESC)
    first = await repo.search(CandidateFilter(), order, PageRequest(2))
    rest = await repo.search(CandidateFilter(), order, PageRequest(2, first.keys[-1]))
    assert first.has_next_page
    assert not rest.has_next_page
    ids = [c.id for c in first.items + rest.items]
    assert len(set(ids)) == 4
    assert first.items[0].name == "Ravi Kumar"


async def test_matching_profiles_for_jobs_in_one_aggregation(
    stores: StoreUrls, mongo_db: Any
) -> None:
    await _seed_people(mongo_db)
    listener = MongoCommands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stores.mongo, tz_aware=True, event_listeners=[listener]
    )
    try:
        repo = MongoCandidateRepository(client[mongo_db.name])
        found = await repo.matching_for([(1, ["kafka", "go"]), (2, ["python"]), (3, [])], 2)
    finally:
        await client.close()
    assert listener.names == ["aggregate"]
    assert found[1] == [f"{3:024x}", f"{4:024x}"]  # Mei Lin (go 4 + kafka 5) beats Ash (go 4)
    assert found[2] == [f"{1:024x}", f"{4:024x}"]  # python 5, then python 4
    assert found[3] == []


async def test_viewer_scope_ids_narrow_search_and_count(mongo_db: Any) -> None:
    await mongo_db[CANDIDATES].insert_many([profile(i) for i in range(1, 6)])
    repo = MongoCandidateRepository(mongo_db)
    scoped = CandidateFilter(ids=(f"{2:024x}", f"{4:024x}", "not-an-id"))
    page = await repo.search(scoped, CandidateOrder(), PageRequest(10))
    assert sorted(c.name for c in page.items) == ["Person 2", "Person 4"]
    assert await repo.count(scoped) == 2
    assert await repo.count(CandidateFilter(ids=())) == 0
