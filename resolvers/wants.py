"""What a query selected below a field, as plain data.

The schema layer builds a `Wants` tree from the GraphQL selection (fragments flattened,
variables resolved). Resolvers and the edge expander use it to fetch every selected
edge once per list, never once per item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Selected:
    name: str
    key: str  # the response key: the alias, or the name
    args: Mapping[str, Any]  # raw argument values, variables resolved
    children: Wants


@dataclass(frozen=True, slots=True)
class Wants:
    fields: tuple[Selected, ...] = ()

    def __contains__(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def named(self, name: str) -> list[Selected]:
        return [f for f in self.fields if f.name == name]

    def child(self, *path: str) -> Wants:
        """Children of every selection along `path`, merged (all aliases together)."""
        node = self
        for name in path:
            node = Wants(tuple(c for f in node.named(name) for c in f.children.fields))
        return node

    def by_key(self, name: str) -> dict[str, tuple[Mapping[str, Any], Wants]]:
        """Selections of `name` grouped by response key, children merged per key.

        GraphQL validation guarantees one argument set per response key.
        """
        grouped: dict[str, tuple[Mapping[str, Any], list[Selected]]] = {}
        for f in self.named(name):
            grouped.setdefault(f.key, (f.args, []))[1].extend(f.children.fields)
        return {key: (args, Wants(tuple(fs))) for key, (args, fs) in grouped.items()}
