"""MongoDB read adapters for candidate profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.database import AsyncDatabase

from datasources.mongo.bootstrap import CANDIDATES
from datasources.mongo.codec import candidate_from_doc
from domain.records import Candidate


def parse_object_id(value: str) -> ObjectId | None:
    """The ObjectId for a 24-hex-char string, or None for anything else."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


class MongoCandidateRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._collection = db[CANDIDATES]

    async def get_many(self, ids: Sequence[str]) -> list[Candidate | None]:
        oids = [oid for oid in map(parse_object_id, ids) if oid is not None]
        found: dict[str, Candidate] = {}
        if oids:
            async for doc in self._collection.find({"_id": {"$in": oids}}):
                found[str(doc["_id"])] = candidate_from_doc(doc)
        return [found.get(i) for i in ids]
