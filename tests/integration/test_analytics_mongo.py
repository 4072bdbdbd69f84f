"""Mongo aggregates against a real Mongo-wire server, compared with brute force over the
documents the test inserted."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from datasources.mongo.analytics import MongoAnalytics
from datasources.mongo.bootstrap import CANDIDATES
from domain.analytics import CandidateGroup, CandidateStatsQuery, years_label
from domain.queries import CandidateFilter
from tests.roundtrips import MongoCommands
from tests.stores import StoreUrls

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SKILLS = ["python", "go", "sql", "react", "kubernetes", "rust"]
G = CandidateGroup


def _doc(rng: random.Random, i: int) -> dict[str, Any]:
    skills = rng.sample(SKILLS, rng.randrange(0, 4))
    if skills and i % 7 == 0:
        skills.append(skills[0])  # the seed has profiles listing a skill twice
    return {
        "_id": ObjectId(f"{i:024x}"), "name": f"P {i}", "email": f"p{i}@example.com",
        "skills": [{"name": s, "level": rng.randrange(1, 6), "years": 1.0} for s in skills],
        "location": {"city": rng.choice(["Pune", "Berlin", "Austin"]),
                     "country": rng.choice(["IN", "DE", "US"])},
        "preferences": {"remote": rng.random() < 0.5},
        "years_experience": rng.choice([0, 1, 2, 4, 5, 9, 10, 14, 15, 22]),
        "version": 1, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


@pytest.fixture
async def docs(mongo_db: Any) -> list[dict[str, Any]]:
    rng = random.Random(5)
    found = [_doc(rng, i) for i in range(1, 201)]
    await mongo_db[CANDIDATES].insert_many([dict(d) for d in found])
    return found


_KEY = {
    G.COUNTRY: lambda d: d["location"]["country"],
    G.CITY: lambda d: d["location"]["city"],
    G.YEARS_BUCKET: lambda d: years_label(d["years_experience"]),
    G.OPEN_TO_REMOTE: lambda d: d["preferences"]["remote"],
}


def brute(
    docs: list[dict[str, Any]], groups: tuple[CandidateGroup, ...], keep: Any = None
) -> dict[tuple[Any, ...], tuple[int, float]]:
    years: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for d in docs:
        if keep is not None and not keep(d):
            continue
        names = {s["name"] for s in d["skills"]} if G.SKILL in groups else {None}
        for skill in names:
            key = tuple(skill if g is G.SKILL else _KEY[g](d) for g in groups)
            years[key].append(d["years_experience"])
    return {k: (len(v), sum(v) / len(v)) for k, v in years.items()}


@pytest.mark.parametrize(
    "groups",
    [
        (G.SKILL,),
        (G.COUNTRY,),
        (G.YEARS_BUCKET,),
        (G.SKILL, G.COUNTRY),
        (G.CITY, G.OPEN_TO_REMOTE, G.YEARS_BUCKET),
        (G.SKILL, G.YEARS_BUCKET),
    ],
)
async def test_candidate_stats_match_brute_force(
    mongo_db: Any, docs: list[dict[str, Any]], groups: tuple[CandidateGroup, ...]
) -> None:
    repo = MongoAnalytics(mongo_db)
    got = await repo.candidate_stats(CandidateStatsQuery(CandidateFilter(), groups, first=1000))
    expected = brute(docs, groups)
    assert {tuple(b.keys[g] for g in groups): b.count for b in got} == {
        k: n for k, (n, _) in expected.items()
    }
    for b in got:
        avg = expected[tuple(b.keys[g] for g in groups)][1]
        assert b.avg_years is not None
        assert abs(b.avg_years - avg) < 1e-9
    assert [b.count for b in got] == sorted((b.count for b in got), reverse=True)


async def test_candidate_stats_filter_first_and_nothing(
    mongo_db: Any, docs: list[dict[str, Any]]
) -> None:
    repo = MongoAnalytics(mongo_db)
    f = CandidateFilter(skills_any=("go", "rust"), countries=("de",), min_years_experience=5)

    def keep(d: dict[str, Any]) -> bool:
        names = {s["name"] for s in d["skills"]}
        return (
            bool(names & {"go", "rust"})
            and d["location"]["country"] == "DE"
            and (d["years_experience"] >= 5)
        )

    got = await repo.candidate_stats(CandidateStatsQuery(f, (G.SKILL,), first=1000))
    expected = brute(docs, (G.SKILL,), keep)
    assert {b.keys[G.SKILL]: b.count for b in got} == {k[0]: n for k, (n, _) in expected.items()}
    top = await repo.candidate_stats(CandidateStatsQuery(f, (G.SKILL,), first=2))
    assert [b.count for b in top] == sorted((n for n, _ in expected.values()), reverse=True)[:2]
    none = CandidateFilter(skills_all=("cobol",))
    assert await repo.candidate_stats(CandidateStatsQuery(none, (G.COUNTRY,))) == []
    assert await repo.candidate_stats(CandidateStatsQuery(none, (G.YEARS_BUCKET,))) == []


async def test_candidate_stats_is_one_aggregate(
    stores: StoreUrls, mongo_db: Any, docs: list[dict[str, Any]]
) -> None:
    listener = MongoCommands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stores.mongo, tz_aware=True, event_listeners=[listener]
    )
    try:
        repo = MongoAnalytics(client[mongo_db.name])
        await repo.candidate_stats(CandidateStatsQuery(CandidateFilter(), (G.SKILL,), first=100))
        await repo.skill_supply(CandidateFilter(open_to_remote=True), None)
    finally:
        await client.close()
    assert listener.names == ["aggregate", "aggregate"]


async def test_skill_supply_matches_brute_force(mongo_db: Any, docs: list[dict[str, Any]]) -> None:
    repo = MongoAnalytics(mongo_db)
    counts: dict[str, int] = defaultdict(int)
    for d in docs:
        for name in {s["name"] for s in d["skills"]}:
            counts[name] += 1
    assert await repo.skill_supply(CandidateFilter(), None) == dict(counts)
    only = await repo.skill_supply(CandidateFilter(), ["go", "cobol"])
    assert only == {"go": counts["go"]}
    remote = await repo.skill_supply(CandidateFilter(open_to_remote=True), ["sql"])
    assert remote == {
        "sql": sum(
            1
            for d in docs
            if d["preferences"]["remote"] and any(s["name"] == "sql" for s in d["skills"])
        )
    }


async def test_whole_pool_supply_is_materialized(mongo_db: Any, docs: list[dict[str, Any]]) -> None:
    """The unfiltered supply is computed once and stored; a read older than the max age
    is answered from the stored counts while a refresh runs; filtered reads are live."""
    repo = MongoAnalytics(mongo_db, supply_max_age=3600)
    before = await repo.skill_supply(CandidateFilter(), None)
    extra = _doc(random.Random(1), 999)
    extra["skills"] = [{"name": "go", "level": 3, "years": 1.0}, {"name": ".net", "level": 1,
                                                                   "years": 1.0}]  # fmt: skip
    await mongo_db[CANDIDATES].insert_one(extra)
    assert await repo.skill_supply(CandidateFilter(), None) == before  # materialized
    live = await repo.skill_supply(CandidateFilter(countries=(extra["location"]["country"],)), None)
    assert live[".net"] == 1  # filtered: computed live
    stale = MongoAnalytics(mongo_db, supply_max_age=0)
    assert await stale.skill_supply(CandidateFilter(), None) == before  # served, refreshing
    assert stale._refreshing is not None
    refreshed = await stale._refreshing
    assert refreshed == {**before, "go": before["go"] + 1, ".net": 1}
    assert await repo.skill_supply(CandidateFilter(), ["go", ".net"]) == {
        "go": before["go"] + 1, ".net": 1,
    }  # fmt: skip
