"""MongoDB aggregates over candidate profiles: pipelines pushed down, groups returned.

`$match` (the same filter as `candidates`), `$unwind` of skills when grouped by skill,
then `$group` (or `$bucket` when years of experience is the only dimension). Field
paths through the skills array are only used after `$unwind` (SecantusDB evaluates
array-of-subdocument paths in expressions wrongly), and no `$text`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from datasources.mongo.bootstrap import CANDIDATES
from datasources.mongo.candidate_query import candidate_match
from domain.analytics import (
    YEARS_BOUNDARIES,
    CandidateBucket,
    CandidateGroup,
    CandidateStatsQuery,
    years_label,
)
from domain.queries import CandidateFilter

_PATHS = {
    CandidateGroup.SKILL: "$skills.name",
    CandidateGroup.COUNTRY: "$location.country",
    CandidateGroup.CITY: "$location.city",
    CandidateGroup.OPEN_TO_REMOTE: "$preferences.remote",
}
_YEARS = "$years_experience"
_PROJECTION = {"skills.name": 1, "location": 1, "preferences.remote": 1, "years_experience": 1}


def _years_switch() -> dict[str, Any]:
    """The years bucket as an expression (for grouping by it with other dimensions)."""
    branches = [
        {"case": {"$lt": [_YEARS, high]}, "then": years_label(low)}
        for low, high in pairwise(YEARS_BOUNDARIES)
    ]
    return {"$switch": {"branches": branches, "default": years_label(YEARS_BOUNDARIES[-1])}}


def _key(group: CandidateGroup) -> Any:
    if group is CandidateGroup.YEARS_BUCKET:
        return _years_switch()
    return "$_id.s" if group is CandidateGroup.SKILL else _PATHS[group]


# A profile may list a skill twice: one row per (profile, skill) before counting.
_PER_SKILL = {
    "$group": {
        "_id": {"c": "$_id", "s": "$skills.name"},
        **{f: {"$first": f"${f}"} for f in ("location", "preferences", "years_experience")},
    }
}


def stats_pipeline(q: CandidateStatsQuery) -> list[dict[str, Any]]:
    pipeline: list[dict[str, Any]] = [{"$match": candidate_match(q.filter)}]
    if CandidateGroup.SKILL in q.group_by:
        pipeline += [{"$project": _PROJECTION}, {"$unwind": "$skills"}, _PER_SKILL]
    if q.group_by == (CandidateGroup.YEARS_BUCKET,):
        group: dict[str, Any] = {
            "$bucket": {
                "groupBy": _YEARS,
                "boundaries": [*YEARS_BOUNDARIES, 10_000],
                "default": "other",
                "output": {"n": {"$sum": 1}, "years": {"$avg": _YEARS}},
            }
        }
    else:
        key = {g.value: _key(g) for g in q.group_by}
        group = {"$group": {"_id": key, "n": {"$sum": 1}, "years": {"$avg": _YEARS}}}
    return [*pipeline, group, {"$sort": {"n": -1, "_id": 1}}, {"$limit": q.first}]


def _keys(q: CandidateStatsQuery, doc: dict[str, Any]) -> dict[CandidateGroup, object]:
    if q.group_by == (CandidateGroup.YEARS_BUCKET,):
        low = doc["_id"]
        return {CandidateGroup.YEARS_BUCKET: years_label(low) if low != "other" else None}
    return {g: doc["_id"].get(g.value) for g in q.group_by}


def supply_pipeline(f: CandidateFilter, skills: list[str] | None) -> list[dict[str, Any]]:
    """Candidates having each skill (of `skills`; None: every skill), each counted once."""
    only = [] if skills is None else [{"$match": {"skills.name": {"$in": skills}}}]
    return [
        {"$match": candidate_match(f)},
        *only,
        {"$project": {"skills.name": 1}},
        {"$unwind": "$skills"},
        *only,
        {"$group": {"_id": {"c": "$_id", "s": "$skills.name"}}},
        {"$group": {"_id": "$_id.s", "n": {"$sum": 1}}},
    ]


class MongoAnalytics:
    """Candidate aggregates (`datasources.ports.CandidateAnalytics`)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db[CANDIDATES]

    async def candidate_stats(self, q: CandidateStatsQuery) -> list[CandidateBucket]:
        if q.first == 0:
            return []
        cursor = await self._collection.aggregate(stats_pipeline(q))
        docs = await cursor.to_list()
        return [CandidateBucket(_keys(q, d), d["n"], d.get("years")) for d in docs]

    async def skill_supply(self, f: CandidateFilter, skills: list[str] | None) -> dict[str, int]:
        if skills is not None and not skills:
            return {}
        cursor = await self._collection.aggregate(supply_pipeline(f, skills))
        return {d["_id"]: d["n"] for d in await cursor.to_list()}
