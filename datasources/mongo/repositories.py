"""MongoDB read adapters for candidate profiles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.asynchronous.database import AsyncDatabase

from datasources.mongo.bootstrap import CANDIDATES
from datasources.mongo.candidate_query import (
    after_clause,
    candidate_match,
    matching_pipeline,
    matching_pool,
    order_field,
    sort_spec,
)
from datasources.mongo.codec import candidate_from_doc
from domain.errors import InvalidInput
from domain.queries import CandidateFilter, CandidateOrder, Page, PageRequest
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
            # One batch for all keys: the default first batch (101) would add getMore trips.
            n = len(set(oids))
            docs = self._collection.find({"_id": {"$in": oids}}, limit=n, batch_size=n)
            async for doc in docs:
                found[str(doc["_id"])] = candidate_from_doc(doc)
        return [found.get(i) for i in ids]

    async def search(
        self, f: CandidateFilter, order: CandidateOrder, page: PageRequest
    ) -> Page[Candidate]:
        query = candidate_match(f)
        if page.after is not None:
            value, key = page.after
            oid = parse_object_id(str(key))
            if oid is None:
                raise InvalidInput("cursor does not belong to this connection and order")
            keyset = after_clause(order, (value, oid), page.backward)
            query = {"$and": [query, keyset]} if query else keyset
        cursor = self._collection.find(query, batch_size=page.size + 1)
        docs = await cursor.sort(sort_spec(order, page.backward)).limit(page.size + 1).to_list()
        more = len(docs) > page.size
        items = [candidate_from_doc(d) for d in docs[: page.size]]
        field = order_field(order)
        keys: list[tuple[object, ...]] = [(d[field], str(d["_id"])) for d in docs[: page.size]]
        if page.backward:
            items.reverse()
            keys.reverse()
            return Page(items, keys, has_next_page=page.after is not None, has_previous_page=more)
        return Page(items, keys, has_next_page=more, has_previous_page=page.after is not None)

    async def count(self, f: CandidateFilter) -> int:
        return await self._collection.count_documents(candidate_match(f))

    async def matching_for(
        self, jobs: Sequence[tuple[int, Sequence[str]]], limit: int
    ) -> dict[int, list[str]]:
        """Ids of the best profiles for each (job id, skills): one aggregation ($facet).

        Ranking is pushed down; the profiles themselves are then loaded by id through
        the request's loader, in one more batch for all jobs.
        """
        wanted = [(job_id, list(skills)) for job_id, skills in jobs if skills]
        found: dict[int, list[str]] = {job_id: [] for job_id, _ in jobs}
        if not wanted:
            return found
        union = sorted({s for _, skills in wanted for s in skills})
        facets = {f"j{job_id}": matching_pipeline(skills, limit) for job_id, skills in wanted}
        pipeline = [*matching_pool(union), {"$facet": facets}]
        result = await (await self._collection.aggregate(pipeline)).to_list()
        for job_id, _ in wanted:
            found[job_id] = [str(d["_id"]) for d in result[0].get(f"j{job_id}", [])]
        return found
