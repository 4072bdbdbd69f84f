"""Turn a GraphQL selection into a `Wants` tree (fragments flattened, aliases merged)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from resolvers.wants import Wants


def _merge(into: dict[str, dict[str, Any]], selections: Iterable[Any]) -> None:
    for sel in selections:
        if isinstance(sel, SelectedField):
            _merge(into.setdefault(sel.name, {}), sel.selections)
        elif isinstance(sel, FragmentSpread | InlineFragment):
            _merge(into, sel.selections)


def _freeze(tree: dict[str, dict[str, Any]]) -> Wants:
    return Wants(children={name: _freeze(sub) for name, sub in tree.items()})


def wants_of(selected_fields: Iterable[Any]) -> Wants:
    """What was selected *below* the current field (its children)."""
    tree: dict[str, dict[str, Any]] = {}
    for field in selected_fields:
        if isinstance(field, SelectedField):
            _merge(tree, field.selections)
    return _freeze(tree)
