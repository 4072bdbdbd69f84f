"""Cache keys carry the record's shape, so a changed record never reads an old entry."""

from __future__ import annotations

from dataclasses import make_dataclass
from enum import Enum
from typing import Any

from datasources.cache.cooldown import Cooldown
from datasources.cache.keys import CacheKeys, CacheStats, shape_version


def _outer(inner_field: type, colours: list[str]) -> type:
    """A record `Outer(inner: tuple[Inner, ...], colour: Colour)`, same names each time."""
    inner = make_dataclass("Inner", [("a", inner_field)])
    colour: Any = Enum("Colour", {c.upper(): c for c in colours})  # type: ignore[misc]
    return make_dataclass("Outer", [("inner", tuple[inner, ...]), ("colour", colour)])  # type: ignore[valid-type]


def test_the_shape_version_sees_nested_records_and_enum_members() -> None:
    base = shape_version(_outer(int, ["red"]))
    assert shape_version(_outer(int, ["red"])) == base  # same shape, same version
    assert shape_version(_outer(str, ["red"])) != base  # a nested record's field changed
    assert shape_version(_outer(int, ["red", "blue"])) != base  # an enum member added


def test_keys_are_prefixed_and_typed() -> None:
    keys = CacheKeys("t1")
    assert keys.entity("Job", 5).startswith("t1:e:Job:")
    assert keys.entity("Job", 5).endswith(":5")
    assert keys.version("Job") == "t1:v:Job"
    assert keys.apq("ab") == "t1:apq:ab"


def test_a_cooldown_trips_only_after_failures_in_a_row() -> None:
    now = [0.0]
    stats = CacheStats()
    gate = Cooldown(
        "t", "skipping", stats, retry_seconds=5, clock=lambda: now[0], failures_to_trip=3
    )
    gate.failed("lookup", TimeoutError())
    gate.failed("lookup", TimeoutError())
    assert gate.available  # two late answers: not an outage
    gate.succeeded()
    gate.failed("lookup", TimeoutError())
    gate.failed("lookup", TimeoutError())
    assert gate.available  # the success reset the count
    gate.failed("lookup", TimeoutError())
    assert not gate.available
    now[0] = 5.0
    assert gate.available
    assert stats.redis_errors == 5
