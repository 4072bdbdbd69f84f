"""Cached pages and counts: the job board's page of ids and its applicant counts.

A page is cached as the ids it matched, their cursor keys and its paging flags (the
records themselves come from the entity cache by id, so one job is cached once however
many pages show it). Counts are cached per (filter, id). Both live under the versions
of the types they read (`datasources.cache.results`): pages of jobs under "Job",
application counts under "Application".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson

from datasources import observe
from datasources.cache.results import ResultCache, digest
from domain.queries import Page

R = TypeVar("R")
K = TypeVar("K")


def _encode_key_value(value: object) -> object:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if value is None or isinstance(value, int | float | str):
        return value
    raise TypeError(f"uncacheable cursor value {value!r}")


def _decode_key_value(value: Any) -> object:
    return datetime.fromisoformat(value["dt"]) if isinstance(value, dict) else value


def encode_page(page: Page[Any], id_of: Callable[[Any], object]) -> bytes:
    return orjson.dumps(
        {
            "ids": [id_of(item) for item in page.items],
            "keys": [[_encode_key_value(v) for v in key] for key in page.keys],
            "next": page.has_next_page,
            "prev": page.has_previous_page,
            "total": page.total,
        }
    )


def decode_page(data: bytes) -> tuple[list[Any], Page[Any]]:
    """(the ids, a Page whose items are still to be filled in)."""
    raw = orjson.loads(data)
    keys = [tuple(_decode_key_value(v) for v in key) for key in raw["keys"]]
    page: Page[Any] = Page([], keys, raw["next"], raw["prev"], raw["total"])
    return raw["ids"], page


class CachedPages:
    """Pages of one entity type, read through a `ResultCache`."""

    def __init__(self, results: ResultCache, name: str, types: Sequence[str]) -> None:
        self.results, self.name, self.types = results, name, tuple(types)

    async def page(
        self,
        spec: tuple[object, ...],
        read: Callable[[], Any],  # () -> Awaitable[Page[R]], the store's query
        by_id: Callable[[list[Any]], Any],  # ids -> Awaitable[list[R | None]], by id
        id_of: Callable[[Any], object],
        *,
        flight: str = "",  # what else concurrent misses must share to share one read
    ) -> Page[Any]:
        key = digest(*spec)
        found = await self.results.lookup(self.name, key, self.types, [""])
        if found is not None and found[1][0] is not None:
            ids, page = decode_page(found[1][0])
            items = await by_id(ids)
            if all(item is not None for item in items):
                page.items.extend(items)
                self.results.gate.stats.hits += 1
                observe.sink.cache("results", 1, 0)
                return page
        self.results.gate.stats.misses += 1
        observe.sink.cache("results", 0, 1)
        fresh: Page[Any] = await self.results.once(f"{self.name}:{key}:{flight}", read)
        if found is not None:
            await self.results.store(found[0], {"": encode_page(fresh, id_of)})
        return fresh


class CachedCounts:
    """Counts per id under one filter, read through a `ResultCache`."""

    def __init__(self, results: ResultCache, name: str, types: Sequence[str]) -> None:
        self.results, self.name, self.types = results, name, tuple(types)

    async def counts(
        self,
        spec: tuple[object, ...],
        ids: Sequence[K],
        read: Callable[[list[K]], Any],  # missing ids -> Awaitable[dict[K, int]]
    ) -> dict[K, int]:
        wanted = list(dict.fromkeys(ids))
        found = await self.results.lookup(self.name, digest(*spec), self.types, map_str(wanted))
        counts: dict[K, int] = {}
        missing: list[K] = []
        for i, value in zip(wanted, found[1] if found else [None] * len(wanted), strict=True):
            if value is None:
                missing.append(i)
            else:
                counts[i] = int(value)
        stats = self.results.gate.stats
        stats.hits += len(counts)
        stats.misses += len(missing)
        observe.sink.cache("results", len(counts), len(missing))
        if missing:
            fresh: dict[K, int] = await read(missing)
            counts.update(fresh)
            if found is not None:
                entries = {str(i): str(fresh.get(i, 0)).encode() for i in missing}
                await self.results.store(found[0], entries)
        return counts


def map_str(values: Sequence[object]) -> list[str]:
    return [str(v) for v in values]
