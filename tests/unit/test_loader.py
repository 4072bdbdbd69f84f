"""The request loader: Strawberry's batching and cache, with lazily materialised primes."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.batching import Loader


def _counting_loader() -> tuple[Loader[int, str], list[list[int]]]:
    calls: list[list[int]] = []

    async def load(keys: list[int]) -> list[str]:
        calls.append(list(keys))
        return [f"loaded {k}" for k in keys]

    return Loader(load_fn=load), calls


async def test_primed_values_are_served_without_a_batch_and_only_misses_load() -> None:
    loader, calls = _counting_loader()
    loader.prime_many({1: "primed 1", 2: "primed 2"})
    assert loader.cache_map.futures == {}  # nothing materialised until asked
    assert await loader.load_many([1, 2, 3]) == ["primed 1", "primed 2", "loaded 3"]
    assert await loader.load(2) == "primed 2"
    assert calls == [[3]]


async def test_a_loaded_value_wins_over_a_later_prime_unless_forced() -> None:
    loader, _ = _counting_loader()
    assert await loader.load(1) == "loaded 1"
    loader.prime_many({1: "primed 1"})
    assert await loader.load(1) == "loaded 1"
    loader.prime_many({1: "forced 1"}, force=True)
    assert await loader.load(1) == "forced 1"


async def test_priming_settles_keys_pending_in_the_current_batch() -> None:
    loader, calls = _counting_loader()
    pending = loader.load_many([1, 2])
    loader.prime_many({1: "primed 1"})  # the batch has not been dispatched yet
    assert await pending == ["primed 1", "loaded 2"]
    assert calls == [[2]]


async def test_clear_forgets_primed_and_loaded_values() -> None:
    loader, calls = _counting_loader()
    loader.prime_many({1: "primed 1"})
    await loader.load(2)
    loader.clear_many([1, 2])
    assert await loader.load_many([1, 2]) == ["loaded 1", "loaded 2"]
    assert calls == [[2], [1, 2]]


async def test_concurrent_loads_share_one_batch() -> None:
    loader, calls = _counting_loader()
    got = await asyncio.gather(loader.load_many([1, 2]), loader.load(2), loader.load(3))
    assert got == [["loaded 1", "loaded 2"], "loaded 2", "loaded 3"]
    assert calls == [[1, 2, 3]]


@pytest.mark.parametrize("keys", [[], [5]])
async def test_failed_batch_raises_to_every_waiter(keys: list[int]) -> None:
    async def fail(batch: list[int]) -> list[str]:
        raise RuntimeError("store down")

    loader: Loader[int, str] = Loader(load_fn=fail)
    loader.prime_many({7: "primed"})
    with pytest.raises(RuntimeError, match="store down"):
        await loader.load_many([*keys, 8])
    assert await loader.load(7) == "primed"
