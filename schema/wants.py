"""Build a `Wants` tree from the executing field's GraphQL selection.

Walks graphql-core's AST with type information, so fragments are flattened, @skip and
@include are honoured and arguments are coerced exactly as graphql-core coerces them
for resolvers (variables and literals alike).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

from resolvers.wants import Selected, Wants


def wants_of(info: Any) -> Wants:
    """What was selected below the field `info` is resolving (strawberry or raw info)."""
    raw: Any = getattr(info, "_raw_info", info)
    parent = get_named_type(raw.return_type)
    sets = (n.selection_set for n in raw.field_nodes if n.selection_set)
    return _collect(_Walk(raw, _variables(raw.variable_values)), parent, sets)


class _Walk:
    """The bits of the resolve info the walk needs, with variables in graphql-core's form."""

    __slots__ = ("fragments", "schema", "variable_values")

    def __init__(self, raw: Any, variables: VariableValues) -> None:
        self.schema = raw.schema
        self.fragments = raw.fragments
        self.variable_values = variables


def _variables(values: Any) -> VariableValues:
    # graphql-core 3.3 passes VariableValues; some execution paths hand over a plain dict.
    if isinstance(values, VariableValues):
        return values
    return VariableValues(sources={}, coerced=dict(values or {}))


def _collect(raw: Any, parent: Any, sets: Iterable[SelectionSetNode]) -> Wants:
    fields: list[Selected] = []
    for selection_set in sets:
        for node in selection_set.selections:
            if not _included(raw, node):
                continue
            if isinstance(node, FieldNode):
                selected = _field(raw, parent, node)
                if selected is not None:
                    fields.append(selected)
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition
                target = raw.schema.get_type(cond.name.value) if cond else parent
                fields.extend(_collect(raw, target, [node.selection_set]).fields)
            elif isinstance(node, FragmentSpreadNode):
                fragment = raw.fragments[node.name.value]
                target = raw.schema.get_type(fragment.type_condition.name.value)
                fields.extend(_collect(raw, target, [fragment.selection_set]).fields)
    return Wants(tuple(fields))


def _field(raw: Any, parent: Any, node: FieldNode) -> Selected | None:
    name = node.name.value
    definition = getattr(parent, "fields", {}).get(name)
    if definition is None:  # __typename and other introspection fields
        return None
    args = get_argument_values(definition, node, raw.variable_values) if definition.args else {}
    children = (
        _collect(raw, get_named_type(definition.type), [node.selection_set])
        if node.selection_set
        else Wants()
    )
    key = node.alias.value if node.alias else name
    return Selected(name=name, key=key, args=args, children=children)


def _included(raw: Any, node: Any) -> bool:
    if not node.directives:
        return True
    skip = get_directive_values(GraphQLSkipDirective, node, raw.variable_values)
    if skip and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, raw.variable_values)
    return not (include and include.get("if") is False)
