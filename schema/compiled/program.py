"""A compiled operation: load every selected edge once per list, then render records.

Running a program is two phases. Loading: each root fetches its page or record through
the shared root functions, and every edge step loads its edge for all parents of its
level in one batch through the request's DataLoaders, stores the values by parent key in
the request's edge table, and recurses into the children (siblings concurrently), so
round trips are bounded by the query's depth. Rendering: the generated functions read
records and the edge table; no awaitable, no resolver, no Strawberry object.

Any value that would need a GraphQL error (a null in a non-null position) raises `Bail`,
and so does any exception in loading: the caller then runs the operation on graphql-core,
which produces exactly the error and partial result it always would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    ValueNode,
    VariableNode,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from resolvers.context import Context
from schema.compiled.sources import ConnSource, Edge
from schema.expand import gather_all
from schema.query import RootConnection

Completer = Callable[[Any, list[Any]], Any]
Table = list[Any]  # edge step index -> {parent key: value}


class Bail(Exception):
    """This request needs graphql-core's path (an error, or input it must report)."""


def _unrendered(_source: Any, _table: Table) -> dict[str, Any]:
    raise AssertionError("selection rendered before it was generated")


class Selection:
    """One (object type, merged selection set): its renderer and the edges below it."""

    __slots__ = ("complete", "edges", "reads", "type_name")

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.edges: list[EdgeStep] = []
        self.complete: Callable[[Any, Table], dict[str, Any]] = _unrendered
        # The source attributes rendering and the edges read; None: not known.
        self.reads: frozenset[str] | None = None


class _Args:
    """A field's coerced arguments: computed once when they use no variables."""

    __slots__ = ("field_def", "node", "static")

    def __init__(self, field_def: GraphQLField, node: FieldNode, uses_variables: bool) -> None:
        self.field_def, self.node = field_def, node
        self.static = None if uses_variables else self._coerce(None)

    def _coerce(self, variables: VariableValues | None) -> dict[str, Any]:
        values = variables or VariableValues(sources={}, coerced={})
        return get_argument_values(self.field_def, self.node, values)

    def of(self, variables: VariableValues | None) -> dict[str, Any]:
        return self.static if self.static is not None else self._coerce(variables)


def _uses_variables(node: FieldNode) -> bool:
    def uses(value: ValueNode) -> bool:
        if isinstance(value, VariableNode):
            return True
        if isinstance(value, ListValueNode):
            return any(uses(v) for v in value.values)
        if isinstance(value, ObjectValueNode):
            return any(uses(f.value) for f in value.fields)
        return False

    return any(uses(a.value) for a in node.arguments or ())


class EdgeStep:
    """One edge field of one selection, loaded for all parents of its level at once."""

    __slots__ = ("args", "children", "edge", "index", "key_of", "need_page", "need_total")

    def __init__(
        self, index: int, edge: Edge, field_def: GraphQLField, node: FieldNode,
        children: list[Selection],
    ) -> None:  # fmt: skip
        self.index, self.edge, self.children = index, edge, children
        self.args = _Args(field_def, node, _uses_variables(node))
        self.key_of = attrgetter(edge.key)
        self.need_page, self.need_total = True, False

    async def run(
        self, ctx: Context, parents: Sequence[Any], table: Table, variables: VariableValues | None
    ) -> None:
        keys = list(dict.fromkeys(map(self.key_of, parents)))
        args = self.args.of(variables)
        values = await self.edge.load(ctx, args, keys, self.need_page, self.need_total)
        table[self.index] = dict(zip(keys, values, strict=True))
        if self.children:
            await expand(ctx, self.children, _children(self.edge.shape, values), table, variables)


def _children(shape: str, values: list[Any]) -> list[Any]:
    if shape == "one":
        return [v for v in values if v is not None]
    if shape == "list":
        return [x for v in values for x in v]
    return [x for conn in values for x in conn.page.items]


async def expand(
    ctx: Context,
    selections: Sequence[Selection],
    records: Sequence[Any],
    table: Table,
    variables: VariableValues | None,
) -> None:
    if records:
        steps = [step for sel in selections for step in sel.edges]
        await gather_all([step.run(ctx, records, table, variables) for step in steps])


class RootStep:
    """One root field: a connection page or a single record, with its selections."""

    __slots__ = ("args", "children", "complete", "fields", "key", "need_total", "read")

    def __init__(
        self, key: str, field_def: GraphQLField | None, node: FieldNode, read: Any,
        complete: Completer, children: list[Selection],
    ) -> None:  # fmt: skip
        self.key, self.read, self.complete, self.children = key, read, complete, children
        self.args = None if field_def is None else _Args(field_def, node, _uses_variables(node))
        self.need_total = False
        self.fields: frozenset[str] | None = None  # a projection for a connection's records

    async def load(self, ctx: Context, table: Table, variables: VariableValues | None) -> Any:
        if self.args is None:  # __typename
            return None
        args = self.args.of(variables)
        if isinstance(self.read, RootConnection):
            window = (args.get("first"), args.get("after"), args.get("last"), args.get("before"))
            spec, order, page, kind = self.read.request(
                args.get("filter"), args.get("orderBy"), window
            )
            if self.fields is None:
                found = await self.read.read(ctx, spec, order, page, total=self.need_total)
            else:
                found = await self.read.read(
                    ctx, spec, order, page, total=self.need_total, fields=self.fields
                )
            await expand(ctx, self.children, found.items, table, variables)
            return ConnSource(found, kind)
        record = await self.read(ctx, **args)
        if record is not None:
            await expand(ctx, self.children, [record], table, variables)
        return record


class Program:
    """A compiled query operation, shared by every request with the same document."""

    __slots__ = ("edge_count", "operation", "roots", "variables")

    def __init__(
        self, roots: list[RootStep], edge_count: int, variables: bool,
        operation: OperationDefinitionNode,
    ) -> None:  # fmt: skip
        self.roots, self.edge_count, self.operation = roots, edge_count, operation
        self.variables = variables

    def coerce(self, schema: GraphQLSchema, raw: dict[str, Any] | None) -> VariableValues | None:
        """The request's variables, coerced; `Bail` when graphql-core must report them."""
        if not self.variables:
            return None
        definitions = self.operation.variable_definitions or ()
        found = get_variable_values(schema, definitions, raw or {})
        if isinstance(found, list):
            raise Bail
        return found

    async def run(self, ctx: Context, variables: VariableValues | None) -> dict[str, Any]:
        """The response's `data`; raises `Bail` or the loading error when it cannot."""
        table: Table = [None] * self.edge_count
        values = await gather_all([root.load(ctx, table, variables) for root in self.roots])
        return {
            root.key: root.complete(value, table)
            for root, value in zip(self.roots, values, strict=True)
        }
