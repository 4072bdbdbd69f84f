"""The batching machinery under every loader: Strawberry's DataLoader, list-level.

`Loader` is Strawberry's DataLoader with a list-level `load_many` and a request cache
(`RequestCache`) that keeps primed values as values until asked for; `grouped` turns a
fetch per argument set into a batch function over (parent, arguments) keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from strawberry.dataloader import AbstractCache, DataLoader, LoaderTask, get_current_batch

from datasources import observe

P = TypeVar("P", bound=Hashable)
A = TypeVar("A", bound=Hashable)
V = TypeVar("V")


def grouped(
    fetch: Callable[[list[P], A], Awaitable[dict[P, V]]],
) -> Callable[[list[tuple[P, A]]], Awaitable[list[V]]]:
    """A batch function over (parent, args) keys: one `fetch` per distinct args."""

    async def load(keys: list[tuple[P, A]]) -> list[V]:
        by_args: dict[A, list[P]] = {}
        for parent, args in keys:
            by_args.setdefault(args, []).append(parent)
        groups = list(by_args.items())
        if len(groups) == 1:  # the common case: no task needed
            results = [await fetch(groups[0][1], groups[0][0])]
        else:
            results = await asyncio.gather(*(fetch(parents, args) for args, parents in groups))
        found = {
            (parent, args): result[parent]
            for (args, parents), result in zip(groups, results, strict=True)
            for parent in parents
        }
        return [found[key] for key in keys]

    return load


K = TypeVar("K", bound=Hashable)


class RequestCache(AbstractCache[K, V]):
    """Strawberry's loader cache over one dict, with primed values turned into futures lazily.

    A root page primes its loader with every record it read (50 jobs), so that a later
    edge needing one of them finds it without a round trip. Most operations never ask,
    and a future per record costs more than the record: here a primed value becomes a
    future only when a load asks for its key. No key function: keys are the values.
    """

    __slots__ = ("futures", "primed")

    def __init__(self) -> None:
        self.futures: dict[K, asyncio.Future[V]] = {}
        self.primed: dict[K, V] = {}

    def get(self, key: K) -> asyncio.Future[V] | None:
        future = self.futures.get(key)
        if future is None and self.primed and key in self.primed:
            future = self.futures[key] = asyncio.get_running_loop().create_future()
            future.set_result(self.primed.pop(key))
        return future

    def set(self, key: K, value: asyncio.Future[V]) -> None:
        self.futures[key] = value

    def delete(self, key: K) -> None:
        self.futures.pop(key, None)
        self.primed.pop(key, None)

    def clear(self) -> None:
        self.futures.clear()
        self.primed.clear()

    def prime(self, data: Mapping[K, V]) -> None:
        """Remember values for keys not loaded yet (a loaded value wins, as in Strawberry)."""
        futures, primed = self.futures, self.primed
        for key, value in data.items():
            if key not in futures:
                primed[key] = value


def observed(
    name: str, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]]
) -> Callable[[list[K]], Awaitable[Sequence[V]]]:
    """`load_fn` reporting each batch's size, and in a span `loader <name>` when tracing
    is on (`datasources.observe.tracer`; off, no span object is created)."""

    async def load(keys: list[K]) -> Sequence[V]:
        observe.sink.batch(name, len(keys))
        tracer = observe.tracer
        if tracer is None:
            return await load_fn(keys)
        with tracer.start_as_current_span(f"loader {name}", attributes={"batch.size": len(keys)}):
            return await load_fn(keys)

    return load


class Loader(DataLoader[K, V]):
    """Strawberry's DataLoader with a leaner `load_many` for list-level loads.

    `DataLoader.load` per key adds a done callback to each future, which the event loop
    then runs once per key, and `gather` adds another per key. A list-level load adds
    its misses to the current batch in one go, with one callback, and awaits the
    futures in order (once the batch has resolved that costs nothing). Batching,
    deduplication and caching are Strawberry's own: same batch, same cache, same
    dispatch.
    """

    cache_map: RequestCache[K, V]

    def __init__(
        self, load_fn: Callable[[list[K]], Awaitable[Sequence[V]]], name: str = "loader"
    ) -> None:
        super().__init__(load_fn=observed(name, load_fn), cache_map=RequestCache())

    def prime_many(self, data: Mapping[K, V], force: bool = False) -> None:
        if force or (self.batch is not None and not self.batch.dispatched):
            super().prime_many(data, force)  # replaces values or settles pending keys
        else:
            self.cache_map.prime(data)

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        futures: list[asyncio.Future[V]] = []
        added: list[LoaderTask[K, V]] = []
        cache = self.cache_map if self.cache else None
        for key in keys:
            future = cache.get(key) if cache is not None else None
            if future is None or future.cancelled():
                future = self.loop.create_future()
                if cache is not None:
                    cache.set(key, future)
                added.append(LoaderTask(key, future))
            futures.append(future)
        if added:
            batch = get_current_batch(self)  # the pending batch, or a new one (dispatched)
            batch.tasks.extend(added)
            added[-1].future.add_done_callback(batch._on_future_done)

        async def collect() -> list[V]:
            try:
                return [await future for future in futures]
            except BaseException:
                for future in futures:  # mark the batch's other failures as retrieved
                    if future.done() and not future.cancelled():
                        future.exception()
                raise

        return collect()
