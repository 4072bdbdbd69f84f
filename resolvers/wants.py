"""What a query selected below a field, as plain data the resolvers can act on.

The schema layer builds a `Wants` tree from the GraphQL selection (through fragments);
resolvers use it to fetch each edge once per list, not once per item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self


@dataclass(frozen=True, slots=True)
class Wants:
    children: Mapping[str, Wants] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.children

    def get(self, *path: str) -> Wants | None:
        node: Wants | None = self
        for name in path:
            if node is None:
                return None
            node = node.children.get(name)
        return node

    @classmethod
    def of(cls, **children: Wants) -> Self:
        return cls(children=children)


NOTHING = Wants()
