"""CandidateFilter / CandidateOrder -> Mongo query documents.

User values only ever appear as values (never as keys or operators), so a string such
as '{"$ne": null}' is matched literally. Text search uses anchored prefix regexes on
lower-cased `search_terms` tokens: index-friendly on a real mongod, and it works on
SecantusDB, which has no $text index.
"""

from __future__ import annotations

import re
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from domain.queries import CandidateFilter, CandidateOrder, CandidateOrderField, Direction

_WORD = re.compile(r"\w+", re.UNICODE)


def _skill(names: Any, level: int | None) -> dict[str, Any]:
    match: dict[str, Any] = {"name": names}
    if level is not None:
        match["level"] = {"$gte": level}
    return {"skills": {"$elemMatch": match}}


def _exact_ci(values: tuple[str, ...]) -> dict[str, Any]:
    return {"$in": [re.compile(f"^{re.escape(v.strip())}$", re.IGNORECASE) for v in values]}


def candidate_match(f: CandidateFilter) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = []
    for name in f.skills_all or ():
        clauses.append(_skill(name, f.min_skill_level))
    if f.skills_any is not None:
        clauses.append(_skill({"$in": list(f.skills_any)}, f.min_skill_level))
    if f.min_years_experience is not None:
        clauses.append({"years_experience": {"$gte": f.min_years_experience}})
    if f.countries is not None:
        clauses.append({"location.country": {"$in": list(f.countries)}})
    if f.cities is not None:
        clauses.append({"location.city": _exact_ci(f.cities)})
    if f.open_to_remote is not None:
        clauses.append({"preferences.remote": f.open_to_remote})
    if f.search is not None:
        for token in _WORD.findall(f.search.lower())[:8]:
            clauses.append({"search_terms": {"$regex": f"^{re.escape(token)}"}})
    if f.ids is not None:  # the viewer's scope (domain.policy.candidate_filter)
        clauses.append({"_id": {"$in": _object_ids(f.ids)}})
    return {"$and": clauses} if clauses else {}


def _object_ids(ids: tuple[str, ...]) -> list[ObjectId]:
    found = []
    for i in ids:
        try:
            found.append(ObjectId(i))
        except (InvalidId, TypeError):
            continue  # not a profile id: it matches nothing
    return found


def order_field(order: CandidateOrder) -> str:
    return "updated_at" if order.field is CandidateOrderField.UPDATED_AT else "years_experience"


def sort_spec(order: CandidateOrder, backward: bool) -> list[tuple[str, int]]:
    desc = (order.direction is Direction.DESC) != backward
    direction = -1 if desc else 1
    return [(order_field(order), direction), ("_id", direction)]


def after_clause(order: CandidateOrder, after: tuple[Any, Any], backward: bool) -> dict[str, Any]:
    field = order_field(order)
    desc = (order.direction is Direction.DESC) != backward
    op = "$lt" if desc else "$gt"
    value, oid = after
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: oid}}]}


def matching_pool(skills: list[str]) -> list[dict[str, Any]]:
    """Narrow the collection to profiles having any wanted skill (multikey index)."""
    return [{"$match": {"skills.name": {"$in": skills}}}, {"$project": {"skills": 1}}]


def matching_pipeline(skills: list[str], limit: int) -> list[dict[str, Any]]:
    """Top profile ids for one job: the summed level of the job's skills each one has.

    `$unwind` rather than field paths through the skills array inside expressions,
    which SecantusDB evaluates wrongly.
    """
    return [
        {"$match": {"skills.name": {"$in": skills}}},
        {"$unwind": "$skills"},
        {"$match": {"skills.name": {"$in": skills}}},
        {"$group": {"_id": "$_id", "score": {"$sum": "$skills.level"}}},
        {"$sort": {"score": -1, "_id": 1}},
        {"$limit": limit},
    ]
