"""Counts store round trips per operation; optionally reports them in `extensions`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from datasources import roundtrips


class RoundTripCounter(SchemaExtension):
    expose = False

    def on_operation(self) -> Iterator[None]:
        roundtrips.begin()
        yield

    def get_results(self) -> dict[str, Any]:
        counter = roundtrips.current()
        if not self.expose or counter is None:
            return {}
        return {"roundTrips": counter.as_dict()}


class ExposedRoundTripCounter(RoundTripCounter):
    expose = True
