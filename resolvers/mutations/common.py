"""What every use case shares: the actor, the writer lookup, refusals, and what a write
must tell the request's loaders and the caches afterwards."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from datasources.ports import Datasources
from domain.commands import Actor
from domain.errors import Forbidden, UpstreamUnavailable
from domain.viewer import Viewer
from resolvers.batching import Loader

log = logging.getLogger("hiregraph.mutations")

W = TypeVar("W")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def actor(viewer: Viewer) -> Actor:
    """The viewer as history rows and events record it: "user:<sub>", "key:<id>" or None."""
    return Actor(viewer.rate_identity)


def configured(writer: W | None, store: str) -> W:
    """The writer, or UPSTREAM_UNAVAILABLE when this gateway has none for `store`."""
    if writer is None:
        raise UpstreamUnavailable(store, f"writes to {store} are not available")
    return writer


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def remember(loader: Loader[K, V], key: K, value: V) -> None:
    """Replace what the request's loader holds for `key` with the record as written, so
    the payload's nested fields (and later fields of the operation) see the new value."""
    loader.clear(key)
    loader.prime(key, value)


async def invalidate(ds: Datasources, changes: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Tell the caches which entities a committed write changed.

    A failure (Redis down or slow) is logged and swallowed: the write has committed,
    and the outbox consumer invalidates the same entities again when the event arrives,
    so the cache is at worst stale until then.
    """
    invalidator = ds.invalidator
    if invalidator is None:
        return
    for type_name, ids in changes:
        try:
            await invalidator.entities_changed(type_name, ids)
        except Exception:
            log.warning("could not invalidate %s %s", type_name, list(ids)[:10], exc_info=True)
