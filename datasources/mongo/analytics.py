"""MongoDB aggregates over candidate profiles: pipelines pushed down, groups returned.

`$match` (the same filter as `candidates`), `$unwind` of skills when grouped by skill,
then `$group` (or `$bucket` when years of experience is the only dimension). Field
paths through the skills array are only used after `$unwind` (SecantusDB evaluates
array-of-subdocument paths in expressions wrongly), and no `$text`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
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

log = logging.getLogger(__name__)
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


MATERIALIZED = "analytics_materialized"
SUPPLY_ID = "skill_supply"


class MongoAnalytics:
    """Candidate aggregates (`datasources.ports.CandidateAnalytics`).

    Skill supply over the whole pool (no filter, no scope: what `skillsGap` asks by
    default) is materialized: one document in `analytics_materialized` holding the
    counts and when they were computed. A read younger than `supply_max_age` uses it;
    an older one is still answered from it while one background task recomputes it
    (stale-while-revalidate), so only the very first read pays for the full scan. A
    filtered or scoped supply is always computed live.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, supply_max_age: float = 300.0) -> None:
        self._collection = db[CANDIDATES]
        self._materialized = db[MATERIALIZED]
        self._supply_max_age = supply_max_age
        self._refreshing: asyncio.Task[dict[str, int]] | None = None

    async def candidate_stats(self, q: CandidateStatsQuery) -> list[CandidateBucket]:
        if q.first == 0:
            return []
        cursor = await self._collection.aggregate(stats_pipeline(q))
        docs = await cursor.to_list()
        return [CandidateBucket(_keys(q, d), d["n"], d.get("years")) for d in docs]

    async def skill_supply(self, f: CandidateFilter, skills: list[str] | None) -> dict[str, int]:
        if skills is not None and not skills:
            return {}
        if f != CandidateFilter():
            return await self._supply(f, skills)
        counts = await self._whole_pool_supply()
        return counts if skills is None else {k: counts[k] for k in skills if k in counts}

    async def refresh_skill_supply(self) -> dict[str, int]:
        """Recompute the materialized whole-pool supply now (e.g. after profile events)."""
        counts = await self._supply(CandidateFilter(), None)
        # A list, not a sub-document: skill names may contain dots (".net").
        rows = [{"s": k, "n": n} for k, n in counts.items()]
        doc = {"counts": rows, "refreshed_at": datetime.now(UTC)}
        await self._materialized.replace_one({"_id": SUPPLY_ID}, doc, upsert=True)
        return counts

    async def _supply(self, f: CandidateFilter, skills: list[str] | None) -> dict[str, int]:
        cursor = await self._collection.aggregate(supply_pipeline(f, skills))
        return {d["_id"]: d["n"] for d in await cursor.to_list()}

    async def _whole_pool_supply(self) -> dict[str, int]:
        doc = await self._materialized.find_one({"_id": SUPPLY_ID})
        if doc is None:
            return await self._refresh_once()
        at = doc["refreshed_at"]
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if (datetime.now(UTC) - at).total_seconds() > self._supply_max_age:
            self._start_refresh()
        return {str(r["s"]): int(r["n"]) for r in doc["counts"]}

    def _start_refresh(self) -> asyncio.Task[dict[str, int]]:
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh_skill_supply())
            self._refreshing.add_done_callback(_log_failure)
        return self._refreshing

    async def _refresh_once(self) -> dict[str, int]:
        # Concurrent first reads share one computation; a cancelled reader cancels nobody.
        return await asyncio.shield(self._start_refresh())


def _log_failure(task: asyncio.Task[dict[str, int]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("skill supply refresh failed", exc_info=task.exception())
