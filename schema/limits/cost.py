"""Operation cost: an estimate of the objects an operation resolves, before it runs.

The model (close to GitHub's and Shopify's):
- a scalar or enum field costs 0 and `__typename` costs 0;
- an object field costs 1 plus its selection;
- a connection costs 1 (the page read) plus its selection, with `edges` and `nodes`
  multiplied by the page size: `first` or `last` from the literal or the variables,
  else the argument's schema default, else PageRequest's default of 20; clamped to
  0..100 (MAX_PAGE), so `first: 1000000` costs like 100 (and is rejected later with
  BAD_USER_INPUT by the resolver, never crashing here);
- an edge is a wrapper and costs 0 itself; each node costs 1 plus its selection;
- any other list of objects multiplies its per-item cost by its `first` argument, or by
  the length of its `ids` argument, else by DEFAULT_LIST_SIZE;
- `__schema` and `__type` cost 1 flat: introspection is answered from memory;
- a mutation field costs MUTATION_COST flat (a write, its checks and its cache
  invalidation) plus its selection, whatever its result type;
- fragments and inline fragments are expanded where spread; inline fragments on
  different types of an abstract field are added (conservative, never an underestimate);
  `@skip`/`@include` are ignored (same reason); a spread that closes a cycle costs 0.
The cost is computed on a valid document; it never raises on an invalid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    value_from_ast_untyped,
)

from domain.errors import LimitExceeded
from domain.queries import MAX_PAGE
from domain.viewer import Role, Viewer

COST_LIMIT = "COST_LIMIT"
DEFAULT_PAGE_SIZE = 20  # PageRequest.of's default when `first`/`last` are omitted
DEFAULT_LIST_SIZE = 10  # a list field with no size argument
MUTATION_COST = 10  # each mutation field, before its selection


def _is_connection(t: GraphQLNamedType) -> bool:
    return isinstance(t, GraphQLObjectType) and {"edges", "pageInfo"} <= t.fields.keys()


def _is_edge(t: GraphQLNamedType) -> bool:
    return isinstance(t, GraphQLObjectType) and {"node", "cursor"} <= t.fields.keys()


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.memo: dict[tuple[str, int | None], int] = {}
        self.visiting: set[str] = set()

    def selection(self, node: SelectionSetNode, parent: GraphQLNamedType, page: int | None) -> int:
        total = 0
        for s in node.selections:
            if isinstance(s, FieldNode):
                total += self.field(s, parent, page)
            elif isinstance(s, InlineFragmentNode):
                on = parent
                if s.type_condition is not None:
                    on = self.schema.get_type(s.type_condition.name.value) or parent
                total += self.selection(s.selection_set, on, page)
            elif isinstance(s, FragmentSpreadNode):
                total += self.fragment(s.name.value, page)
        return total

    def fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self.memo:
            return self.memo[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return 0
        on = self.schema.get_type(definition.type_condition.name.value)
        if on is None:
            return 0
        self.visiting.add(name)
        try:
            cost = self.selection(definition.selection_set, on, page)
        finally:
            self.visiting.discard(name)
        self.memo[key] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0 if name == "__typename" else 1
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is not None and parent is self.schema.mutation_type:
            return MUTATION_COST + self.below(node, definition)
        if definition is None or node.selection_set is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if _is_connection(named):
            size = self.page_size(node, definition)
            return 1 + self.selection(node.selection_set, named, size)
        item = (0 if _is_edge(named) else 1) + self.selection(node.selection_set, named, None)
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return item
        if page is not None and name in ("edges", "nodes"):
            return page * item
        return self.list_size(node, definition) * item

    def below(self, node: FieldNode, definition: GraphQLField) -> int:
        """The selection's cost, counted as for an object field's."""
        if node.selection_set is None:
            return 0
        return self.selection(node.selection_set, get_named_type(definition.type), None)

    def argument(self, node: FieldNode, definition: GraphQLField, name: str) -> Any:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast_untyped(arg.value, self.variables)
        declared = definition.args.get(name)
        if declared is None or declared.default_value is Undefined:
            return None
        return declared.default_value

    def page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        for name in ("first", "last"):
            value = self.argument(node, definition, name)
            if isinstance(value, int) and not isinstance(value, bool):
                return min(max(value, 0), MAX_PAGE)
        return DEFAULT_PAGE_SIZE

    def list_size(self, node: FieldNode, definition: GraphQLField) -> int:
        if "first" in definition.args or "last" in definition.args:
            return self.page_size(node, definition)
        ids = self.argument(node, definition, "ids")
        if isinstance(ids, list):
            return len(ids)
        return DEFAULT_LIST_SIZE


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            values[definition.variable.name.value] = value_from_ast_untyped(
                definition.default_value
            )
    values.update(variables or {})
    return values


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the selected operation (0 when there is no such operation)."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costing = _Costing(schema, fragments, _with_defaults(operation, variables))
    return costing.selection(operation.selection_set, root, None)


def cost_budget(viewer: Viewer, budgets: Mapping[Role, int]) -> int:
    """The viewer's own budget (an API key's) if set, else its role's."""
    return viewer.cost_budget if viewer.cost_budget is not None else budgets[viewer.role]


def check_cost(cost: int, budget: int) -> None:
    if cost > budget:
        raise LimitExceeded(
            COST_LIMIT,
            f"The operation's cost {cost} exceeds the budget of {budget}.",
            {"cost": cost, "budget": budget},
        )
