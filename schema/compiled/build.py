"""Compile a validated query operation into a `Program`, or say it is not covered.

Each (object type, merged selection set) becomes one generated function that renders a
source value as the response dict: attribute reads and native leaves inlined, other
fields through small completers. Edges become `EdgeStep`s that the program loads once
per list before rendering; the generated code then reads each edge's value from the
request's edge table by the parent's key.

Covered: query operations over object types, named and inline fragments, aliases,
`__typename`, and arguments from literals or variables. Not covered (the operation stays
on graphql-core): directives of any kind (@skip/@include make the selection depend on
variables), interfaces and unions (`node`, `nodes`), introspection, mutations and
subscriptions, and any field `sources` does not know. `Unsupported` says which.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import lru_cache
from types import CodeType
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)

from schema.compiled.program import Bail, Completer, EdgeStep, Program, RootStep, Selection
from schema.compiled.sources import (
    NOT_COMPILED,
    OVERRIDES,
    RECORD_TYPES,
    TYPE_SOURCES,
    Attr,
    Call,
    Edge,
)
from schema.fastpath import leaf_serializer, native_type
from schema.query import ROOT_CONNECTIONS, ROOT_RECORDS

_DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    """This operation is not compiled; graphql-core executes it."""


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Program:
    """The program for a validated document's operation; `Unsupported` when not covered."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        raise Unsupported("not a query operation")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Builder(schema, fragments).program(operation)


class _Builder:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments
        self.edge_count = 0
        self.uses_job_loader = False

    def program(self, operation: OperationDefinitionNode) -> Program:
        query = self.schema.query_type
        assert query is not None
        roots: list[RootStep] = []
        for key, nodes in self.collect(query, [operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                roots.append(RootStep(key, None, nodes[0], None, _constant_completer("Query"), []))
                continue
            field_def = query.fields.get(name)
            if field_def is None:  # introspection
                raise Unsupported(name)
            sink: list[Selection] = []
            complete = self.completer(field_def.type, nodes, sink)
            if name in ROOT_CONNECTIONS:
                need_total = "totalCount" in self._selected_names(field_def.type, nodes)
                read = ROOT_CONNECTIONS[name]
                root = RootStep(key, field_def, nodes[0], read, complete, sink)
                root.need_total = need_total
                if read.projects:
                    root.fields = _union_of_reads(sink)
            elif name in ROOT_RECORDS:
                root = RootStep(key, field_def, nodes[0], ROOT_RECORDS[name], complete, sink)
            else:
                raise Unsupported(f"root field {name}")
            roots.append(root)
        if self.uses_job_loader:  # root jobs are read whole and primed for those edges
            for root in roots:
                root.fields = None
        return Program(roots, self.edge_count, bool(operation.variable_definitions), operation)

    # -- selections ---------------------------------------------------------------------

    def collect(
        self, object_type: GraphQLObjectType, sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """Response key -> its field nodes, fragments flattened (graphql-core's CollectFields)."""
        fields: dict[str, list[FieldNode]] = {}
        self._collect(object_type, sets, fields, set())
        return fields

    def _collect(
        self,
        object_type: GraphQLObjectType,
        sets: Iterable[SelectionSetNode],
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection_set in sets:
            for node in selection_set.selections:
                if node.directives:
                    raise Unsupported("directives")
                if isinstance(node, FieldNode):
                    key = node.alias.value if node.alias else node.name.value
                    fields.setdefault(key, []).append(node)
                elif isinstance(node, InlineFragmentNode):
                    if self._applies(node.type_condition, object_type):
                        self._collect(object_type, [node.selection_set], fields, visited)
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments[name]
                    if fragment.directives:
                        raise Unsupported("directives")
                    if name in visited:
                        continue
                    visited.add(name)
                    if self._applies(fragment.type_condition, object_type):
                        self._collect(object_type, [fragment.selection_set], fields, visited)

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is object_type:
            return True
        return target is not None and self.schema.is_sub_type(target, object_type)  # type: ignore[arg-type]

    def _selected_names(self, gql_type: Any, nodes: list[FieldNode]) -> set[str]:
        while isinstance(gql_type, GraphQLNonNull | GraphQLList):
            gql_type = gql_type.of_type
        sets = [n.selection_set for n in nodes if n.selection_set]
        return {ns[0].name.value for ns in self.collect(gql_type, sets).values()}

    def selection(
        self, object_type: GraphQLObjectType, nodes: list[FieldNode], sink: list[Selection] | None
    ) -> Selection:
        type_name = object_type.name
        source = TYPE_SOURCES.get(type_name)
        if source is None:
            raise Unsupported(f"type {type_name}")
        record = type_name in RECORD_TYPES
        sel = Selection(type_name)
        if record:
            if sink is None:  # a record reached without an edge would miss its own edges
                raise Unsupported(f"{type_name} outside an edge")
            sink.append(sel)
        sets = [n.selection_set for n in nodes if n.selection_set]
        steps: list[tuple[str, str, Any, Completer, type | None]] = []
        reads: set[str] | None = set()
        for key, field_nodes in self.collect(object_type, sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                steps.append((key, "const", type_name, _identity, None))
                continue
            field_def = object_type.fields[name]
            how = self._source(object_type, name, source)
            if isinstance(how, Edge):
                children: list[Selection] = []
                complete = self.completer(field_def.type, field_nodes, children)
                step = EdgeStep(self.edge_count, how, field_def, field_nodes[0], children)
                step.need_page, step.need_total = self._page_flags(how, field_def, field_nodes)
                self.edge_count += 1
                self.uses_job_loader |= how.uses_job_loader
                sel.edges.append(step)
                steps.append((key, "edge", (step.index, how.key), complete, None))
                reads = _add(reads, (how.key,))
            else:
                complete = self.completer(field_def.type, field_nodes, None if record else sink)
                kind = "attr" if isinstance(how, Attr) else "call"
                value = how.name if isinstance(how, Attr) else how.fn
                steps.append((key, kind, value, complete, native_type(field_def.type)))
                reads = _add(reads, (how.name,) if isinstance(how, Attr) else how.reads)
        sel.complete = _generate(steps)
        sel.reads = None if reads is None else frozenset(reads)
        return sel

    def _page_flags(self, how: Edge, field_def: Any, nodes: list[FieldNode]) -> tuple[bool, bool]:
        if how.shape != "connection":
            return True, False
        names = self._selected_names(field_def.type, nodes)
        return bool(names & {"edges", "pageInfo"}), "totalCount" in names

    @staticmethod
    def _source(object_type: GraphQLObjectType, name: str, source: type) -> Call | Attr | Edge:
        if (object_type.name, name) in NOT_COMPILED:
            raise Unsupported(f"{object_type.name}.{name} is not compiled")
        override = OVERRIDES.get((object_type.name, name))
        if override is not None:
            return override
        field_def = object_type.fields[name]
        definition = (field_def.extensions or {}).get(_DEFINITION)
        if definition is None or definition.arguments or not _self_only(definition):
            raise Unsupported(f"{object_type.name}.{name}")
        if not hasattr(source, definition.python_name):
            raise Unsupported(f"{object_type.name}.{name} has no source")
        return Attr(definition.python_name)

    # -- completers ---------------------------------------------------------------------

    def completer(
        self, gql_type: GraphQLOutputType, nodes: list[FieldNode], sink: list[Selection] | None
    ) -> Completer:
        if isinstance(gql_type, GraphQLNonNull):
            return _non_null(self.completer(gql_type.of_type, nodes, sink))
        if isinstance(gql_type, GraphQLList):
            inner = self.completer(gql_type.of_type, nodes, sink)
            return _list(inner, native_type(gql_type.of_type))
        if isinstance(gql_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf(leaf_serializer(gql_type))
        if isinstance(gql_type, GraphQLObjectType):
            sel = self.selection(gql_type, nodes, sink)
            return _object(sel)
        raise Unsupported(f"abstract type {gql_type}")


def _add(reads: set[str] | None, more: tuple[str, ...] | None) -> set[str] | None:
    return None if reads is None or more is None else reads | set(more)


def _union_of_reads(selections: list[Selection]) -> frozenset[str] | None:
    """Every attribute the records of a list are read for; None when any is unknown."""
    found: set[str] = set()
    for sel in selections:
        if sel.reads is None:
            return None
        found |= sel.reads
    return frozenset(found)


def _self_only(definition: Any) -> bool:
    """A plain field, or a resolver of `self` alone (a computed property of the source)."""
    resolver = definition.base_resolver
    if resolver is None:
        return True
    func = resolver.wrapped_func
    return not inspect.iscoroutinefunction(func) and len(inspect.signature(func).parameters) == 1


def _identity(value: Any, _: Any) -> Any:
    return value


def _constant_completer(value: str) -> Completer:
    def complete(_value: Any, _table: Any) -> str:
        return value

    return complete


def _leaf(serialize: Callable[[Any], Any]) -> Completer:
    def complete(value: Any, _: Any) -> Any:
        if value is None:
            return None
        result = serialize(value)
        if result is None:  # graphql-core reports this as an error
            raise Bail
        return result

    return complete


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any, table: Any) -> Any:
        if value is None:
            raise Bail
        result = inner(value, table)
        if result is None:
            raise Bail
        return result

    shape = getattr(inner, "shape", None)
    if shape is not None:  # rendered inline (see _generate)
        complete.shape = ("non-null " + shape[0], shape[1])  # type: ignore[attr-defined]
    return complete


def _list(inner: Completer, native: type | None) -> Completer:
    if native is not None:

        def natives(value: Any, table: Any) -> Any:
            if value is None:
                return None
            return [x if type(x) is native else inner(x, table) for x in value]

        return natives

    def complete(value: Any, table: Any) -> Any:
        return None if value is None else [inner(x, table) for x in value]

    shape = getattr(inner, "shape", None)
    if shape is not None and shape[0] == "non-null object":
        complete.shape = ("list", shape[1])  # type: ignore[attr-defined]
    return complete


def _object(sel: Selection) -> Completer:
    def complete(value: Any, table: Any) -> Any:
        return None if value is None else sel.complete(value, table)

    complete.shape = ("object", sel)  # type: ignore[attr-defined]
    return complete


def _bail() -> Any:
    raise Bail


# Object-valued fields rendered inline: the child's function is called directly. A None
# item of a non-null list reaches the child, whose first attribute read fails, and the
# request falls back like any other error (selections of constants only check first).
_INLINE = {
    "object": "(None if (v := {read}) is None else f{i}(v, e))",
    "non-null object": "(f{i}(v, e) if (v := {read}) is not None else bail())",
    "list": "(None if (v := {read}) is None else [f{i}(x, e) for x in v])",
    "non-null list": "([f{i}(x, e) for x in v] if (v := {read}) is not None else bail())",
}


@lru_cache(maxsize=4096)
def _code(source: str) -> CodeType:
    return compile(source, "<hiregraph compiled>", "exec")


def _generate(steps: list[tuple[str, str, Any, Completer, type | None]]) -> Any:
    """One dict display per selection set. Only response keys (validated GraphQL names)
    and attribute names (Python identifiers from type definitions) reach the source."""
    env: dict[str, Any] = {"bail": _bail}
    items = []
    for i, (key, kind, value, complete, native) in enumerate(steps):
        env[f"c{i}"], env[f"t{i}"] = complete, native
        shape = getattr(complete, "shape", None)
        if kind == "const":
            items.append(f"{key!r}: {value!r}")
            continue
        if kind == "edge":
            index, attr = value
            read = f"e[{index}].get(s.{_identifier(attr)})"
        elif kind == "attr":
            read = f"s.{_identifier(value)}"
        else:
            env[f"g{i}"] = value
            read = f"g{i}(s)"
        if shape is not None and shape[0] in _INLINE:
            env[f"f{i}"] = shape[1].complete
            items.append(f"{key!r}: " + _INLINE[shape[0]].format(read=read, i=i))
        elif native is not None:
            items.append(f"{key!r}: (v if type(v := {read}) is t{i} else c{i}(v, e))")
        else:
            items.append(f"{key!r}: c{i}({read}, e)")
    constants_only = all(kind == "const" for _, kind, *_ in steps)
    check = "    if s is None:\n        bail()\n" if constants_only else ""
    source = "def complete(s, e):\n" + check + "    return {" + ", ".join(items) + "}\n"
    exec(_code(source), env)  # noqa: S102 (generated from validated names only; see docstring)
    return env["complete"]


def _identifier(name: str) -> str:
    if not name.isidentifier():
        raise Unsupported(f"attribute {name!r}")
    return name
