"""Planned completion: graphql-core's object completion, compiled per selection set.

graphql-core completes every field of every object on its own: it builds a resolve
info, calls the resolver, checks for awaitables, then completes the value. For objects
whose fields are plain attribute reads (everything below a list here: the expander has
already attached every edge), that work is the whole cost of a page.

This execution context compiles, once per (object type, selection set) in an
operation, a plan: for each response key, a getter and a completer for the field's
type. Completing an object is then a loop over the plan. Anything the plan does not
cover (resolvers with arguments or `info`, abstract types, deferred fragments,
middleware) keeps graphql-core's path, and so does any object whose values would need
an error (a null in a non-null position): the plan bails out and graphql-core
completes that object again, producing the exact error and null-bubbling it would
have. Getters are attribute reads without side effects, so a second pass is safe.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from types import CodeType
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.types.node import PrefetchedResolver

Getter = Callable[[Any], Any]
Completer = Callable[[Any], Any]
_DEFINITION = "strawberry-definition"


class _Bail(Exception):
    """The plan cannot complete this value; graphql-core's path will."""


class _Step(NamedTuple):
    key: str  # response key
    get: Getter
    complete: Completer
    attr: str | None  # the attribute `get` reads, when it is a plain attribute read
    native: type | None  # a leaf value of this exact type is already its output


class _Plan:
    """Completes one selection set of one object type: a dict per source object."""

    __slots__ = ("complete", "steps")

    def __init__(self, steps: list[_Step]) -> None:
        self.steps = steps
        self.complete: Callable[[Any], dict[str, Any]] = _compile(steps)


@lru_cache(maxsize=4096)
def _code(source: str) -> CodeType:
    # Plans are rebuilt per operation; compiling the same source once keeps that cheap.
    return compile(source, "<hiregraph plan>", "exec")


def _compile(steps: list[_Step]) -> Callable[[Any], dict[str, Any]]:
    """Generate the completion function: one dict display, attribute reads inlined.

    Only response keys (GraphQL names, validated) and attribute names (Python
    identifiers from the type definitions) reach the generated source.
    """
    env: dict[str, Any] = {}
    items = []
    for i, step in enumerate(steps):
        env[f"g{i}"], env[f"c{i}"], env[f"t{i}"] = step.get, step.complete, step.native
        if step.attr is not None and step.attr.isidentifier() and step.native is not None:
            value = f"(v if type(v := s.{step.attr}) is t{i} else c{i}(v))"
        elif step.attr is not None and step.attr.isidentifier():
            value = f"c{i}(s.{step.attr})"
        else:
            value = f"c{i}(g{i}(s))"
        items.append(f"{step.key!r}: {value}")
    source = "def complete(s):\n    return {" + ", ".join(items) + "}\n"
    exec(_code(source), env)  # noqa: S102 (generated from validated names only; see docstring)
    complete: Callable[[Any], dict[str, Any]] = env["complete"]
    return complete


# Plans shared across operations. The parse cache hands every request for the same query
# text the same AST, so (schema, object type, field nodes) names one selection set, as long
# as no @skip/@include makes the selection depend on variables. Entries keep their nodes
# alive, so an id is never reused while its entry exists; identity is checked on a hit.
_SHARED: OrderedDict[tuple[int, str, tuple[int, ...]], tuple[_Plan | None, tuple[Any, ...]]] = (
    OrderedDict()
)
_SHARED_MAX = 4096
_CONDITIONAL = frozenset({"skip", "include"})


def _remember(key: Any, plan: _Plan | None, nodes: tuple[Any, ...]) -> None:
    _SHARED[key] = (plan, nodes)
    _SHARED.move_to_end(key)
    while len(_SHARED) > _SHARED_MAX:
        _SHARED.popitem(last=False)


@lru_cache(maxsize=1024)
def _unconditional_selection(node: Any) -> bool:
    for selection in getattr(getattr(node, "selection_set", None), "selections", ()) or ():
        if any(d.name.value in _CONDITIONAL for d in selection.directives or ()):
            return False
        if not _unconditional_selection(selection):
            return False
    return True


def _unconditional(operation: Any, fragments: dict[str, Any]) -> bool:
    """No @skip/@include anywhere in the operation or its fragments."""
    return _unconditional_selection(operation) and all(
        _unconditional_selection(f) for f in fragments.values()
    )


class PlannedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # None marks a selection set the plan does not cover (graphql-core completes it).
        self._plans: dict[tuple[str, int], _Plan | None] = {}

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        middleware = self.middleware_manager
        # Resolver middleware must see every field, so its presence disables plans.
        plan = (
            None
            if middleware and middleware.middlewares
            else self._plan(return_type, field_details_list)
        )
        if plan is not None:
            try:
                return plan.complete(result)
            except Exception:  # noqa: S110 (graphql-core redoes it and reports the error)
                pass
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(self, object_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        key = (object_type.name, id(field_details_list))
        if key in self._plans:
            return self._plans[key]
        nodes = tuple(d.node for d in field_details_list)
        shared = (id(self.schema), object_type.name, tuple(map(id, nodes)))
        reusable = _unconditional(self.operation, self.fragments)
        if reusable and (hit := _SHARED.get(shared)) is not None and hit[1] == nodes:
            self._plans[key] = hit[0]
            return hit[0]
        self._plans[key] = None  # also guards against recursion while building
        plan = self._build(object_type, field_details_list)
        self._plans[key] = plan
        if reusable:
            _remember(shared, plan, nodes)
        return plan

    def _build(self, object_type: GraphQLObjectType, field_details_list: Any) -> _Plan | None:
        grouped, deferred, _ = self.collect_subfields(object_type, field_details_list)
        if deferred:
            return None
        steps: list[_Step] = []
        for response_key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                steps.append(
                    _Step(response_key, _constant(object_type.name), _identity, None, None)
                )
                continue
            field_def = object_type.fields.get(name)
            getter = _getter(field_def, response_key) if field_def else None
            completer = self._completer(field_def.type, details) if field_def else None
            if getter is None or completer is None:
                return None
            attr = getattr(getter, "attr", None)
            steps.append(_Step(response_key, getter, completer, attr, native_type(field_def.type)))
        return _Plan(steps)

    def _completer(self, gql_type: GraphQLOutputType, details: Any) -> Completer | None:
        if isinstance(gql_type, GraphQLNonNull):
            if isinstance(gql_type.of_type, GraphQLScalarType | GraphQLEnumType):
                return _non_null_leaf(leaf_serializer(gql_type.of_type))
            inner = self._completer(gql_type.of_type, details)
            return None if inner is None else _non_null(inner)
        if isinstance(gql_type, GraphQLList):
            inner = self._completer(gql_type.of_type, details)
            return None if inner is None else _list(inner)
        if isinstance(gql_type, GraphQLScalarType | GraphQLEnumType):
            return _leaf(leaf_serializer(gql_type))
        if isinstance(gql_type, GraphQLObjectType):
            plan = self._plan(gql_type, details)
            return None if plan is None else _nullable(plan.complete)
        return None  # interfaces and unions need type resolution


def _constant(value: str) -> Getter:
    def get(_source: Any) -> str:
        return value

    return get


def _identity(value: Any) -> Any:
    return value


def _leaf(serialize: Callable[[Any], Any]) -> Completer:
    def complete(value: Any) -> Any:
        return None if value is None else serialize(value)

    return complete


# Values that already are what graphql-core's serializers would return for these types.
_NATIVE: dict[str, type] = {"String": str, "ID": str, "Int": int, "Boolean": bool, "Float": float}


def leaf_serializer(gql_type: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The type's serialize, short-cut for values that need no conversion."""
    serialize = gql_type.serialize
    native = _NATIVE.get(gql_type.name)
    if native is not None:

        def fast(value: Any) -> Any:
            return value if type(value) is native else serialize(value)

        return fast
    if isinstance(gql_type, GraphQLEnumType):
        names = {v.value: name for name, v in gql_type.values.items()}

        def enum(value: Any) -> Any:
            name = names.get(value)
            return serialize(value) if name is None else name

        return enum
    return serialize


def _non_null_leaf(serialize: Callable[[Any], Any]) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            raise _Bail
        result = serialize(value)
        if result is None:
            raise _Bail
        return result

    return complete


def _nullable(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        return None if value is None else inner(value)

    return complete


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        if value is None:
            raise _Bail
        result = inner(value)
        if result is None:
            raise _Bail
        return result

    return complete


def _list(inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        return None if value is None else [inner(item) for item in value]

    return complete


def native_type(gql_type: Any) -> type | None:
    if isinstance(gql_type, GraphQLNonNull):
        gql_type = gql_type.of_type
    if isinstance(gql_type, GraphQLScalarType):
        return _NATIVE.get(gql_type.name)
    return None


class _AttrGetter:
    """A plain attribute read, which the generated code inlines as `s.<attr>`."""

    __slots__ = ("attr", "get")

    def __init__(self, attr: str) -> None:
        self.attr = attr
        self.get = attrgetter(attr)

    def __call__(self, source: Any) -> Any:
        return self.get(source)


def _getter(field_def: Any, response_key: str) -> Getter | None:
    if isinstance(field_def.resolve, PrefetchedResolver):
        return field_def.resolve.getter(response_key)
    definition = (field_def.extensions or {}).get(_DEFINITION)
    if definition is None or definition.arguments or definition.permission_classes:
        return None
    if definition.extensions:
        return None
    if definition.base_resolver is None:
        return _AttrGetter(definition.python_name)
    func = definition.base_resolver.wrapped_func
    # A method that only reads `self` (e.g. an edge's cursor) is a getter too.
    if not inspect.iscoroutinefunction(func) and len(inspect.signature(func).parameters) == 1:
        return func  # type: ignore[no-any-return]
    return None
