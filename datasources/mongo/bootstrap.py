"""Idempotent MongoDB bootstrap: the `candidates` collection, its validator and indexes,
and the `outbox` collection (events written in the profile change's transaction).

Run by `hiregraph migrate`. Re-running converges: the collection is created once, the
validator is re-applied with `collMod`, and `create_index` is a no-op for an index that
already exists with the same spec.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

CANDIDATES = "candidates"
OUTBOX = "outbox"

_STR = {"bsonType": "string"}
_NULLABLE_STR = {"bsonType": ["string", "null"]}
_DATE = {"bsonType": "date"}

CANDIDATE_SCHEMA: dict[str, Any] = {
    "bsonType": "object",
    "required": ["name", "email", "version", "created_at", "updated_at"],
    "properties": {
        "name": {"bsonType": "string", "minLength": 1, "maxLength": 200},
        "email": {"bsonType": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
        "phone": _NULLABLE_STR,
        "headline": _NULLABLE_STR,
        "summary": _NULLABLE_STR,
        "location": {
            "bsonType": "object",
            "properties": {"city": _NULLABLE_STR, "country": _NULLABLE_STR},
        },
        "skills": {
            "bsonType": "array",
            "items": {
                "bsonType": "object",
                "required": ["name", "level"],
                "properties": {
                    "name": _STR,
                    "level": {"bsonType": "int", "minimum": 1, "maximum": 5},
                    "years": {"bsonType": ["double", "int"]},
                },
            },
        },
        "experience": {"bsonType": "array"},
        "education": {"bsonType": "array"},
        "links": {"bsonType": "array"},
        "preferences": {"bsonType": "object"},
        "attributes": {"bsonType": "object"},
        "years_experience": {"bsonType": "int", "minimum": 0},
        "search_terms": {"bsonType": "array", "items": _STR},
        "version": {"bsonType": "int", "minimum": 1},
        "created_at": _DATE,
        "updated_at": _DATE,
    },
}

CANDIDATE_INDEXES = [
    IndexModel([("email", ASCENDING)], name="uq_email", unique=True),
    IndexModel([("skills.name", ASCENDING)], name="ix_skills_name"),
    IndexModel([("location.country", ASCENDING), ("location.city", ASCENDING)], name="ix_location"),
    IndexModel([("years_experience", ASCENDING)], name="ix_years_experience"),
    IndexModel([("updated_at", DESCENDING), ("_id", DESCENDING)], name="ix_updated_at"),
    # Name/headline search: lower-cased tokens, matched by anchored prefix regex. Works on a
    # real mongod and on SecantusDB, which has no $text index.
    IndexModel([("search_terms", ASCENDING)], name="ix_search_terms"),
]

OUTBOX_INDEXES = [
    # The relay's scan: unpublished events in insertion order (`published_at: null`).
    IndexModel([("published_at", ASCENDING), ("_id", ASCENDING)], name="ix_outbox_unpublished"),
    IndexModel([("event_id", ASCENDING)], name="uq_event_id", unique=True),
]


async def bootstrap(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Create or converge the candidate collection (validator, indexes) and the outbox."""
    existing = await db.list_collection_names()
    if CANDIDATES not in existing:
        await db.create_collection(
            CANDIDATES,
            validator={"$jsonSchema": CANDIDATE_SCHEMA},
            validationLevel="strict",
            validationAction="error",
        )
    else:
        await db.command(
            "collMod",
            CANDIDATES,
            validator={"$jsonSchema": CANDIDATE_SCHEMA},
            validationLevel="strict",
            validationAction="error",
        )
    await db[CANDIDATES].create_indexes(CANDIDATE_INDEXES)
    # Created up front: a transaction is the outbox's only writer, and creating a
    # collection inside a transaction is not allowed on every server version.
    if OUTBOX not in existing:
        await db.create_collection(OUTBOX)
    await db[OUTBOX].create_indexes(OUTBOX_INDEXES)
