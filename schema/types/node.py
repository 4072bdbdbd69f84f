"""The Relay Node interface, and prefetched-edge plumbing shared by entity types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from schema.info import Info


@strawberry.interface(name="Node", description="An object with an opaque global ID.")
class Node:
    @strawberry.field
    def id(self) -> strawberry.ID:
        """Opaque global ID; each type encodes its own (only when selected)."""
        raise NotImplementedError


def prefetched(edges: dict[str, Any], info: Info | Any) -> Any:
    """The value the expander stored for this field's response key (alias or name)."""
    key = str(info.path.key)
    try:
        return edges[key]
    except KeyError:
        raise RuntimeError(f"edge {key!r} at {info.path.as_list()} was not prefetched") from None


class PrefetchedResolver:
    """The graphql-core resolver of an edge the expander prefetched (see schema.build)."""

    def __call__(self, source: Any, info: Any, **_: Any) -> Any:
        return prefetched(source.edges, info)

    @staticmethod
    def getter(response_key: str) -> Callable[[Any], Any]:
        def get(source: Any) -> Any:
            return source.edges[response_key]

        return get
