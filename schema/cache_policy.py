"""What the response cache needs to know about an operation, computed once per document.

`CachePolicies.get(query, operation_name)` parses the document (graphql-core, once per
distinct text: the result is kept in an LRU), picks the operation, and walks its
selections with fragments resolved against the schema and `schema.cache_hints`:
- only a `query` is cacheable (mutations and subscriptions never are);
- `max_age` is the minimum of every touched type's and field override's hint; a field
  or type without a hint makes it 0, and so does a document that does not parse or
  names an unknown field (it would answer with errors, which are never stored anyway);
- `types` are the entities whose versions the response key includes: every entity
  type the selection can reach, all possible types of an interface (`node`) included;
- `private`: a personal field is selected, so the response is per user.
`digest` is SHA-256 of the printed (normalized) document: two texts that differ only in
whitespace, commas or comments share cache entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    print_ast,
)

from schema.cache_hints import HINTS, TypeHint
from schema.operation import parse_document


@dataclass(frozen=True, slots=True)
class CachePolicy:
    query: bool  # a query operation (the only kind that may be cached)
    max_age: int  # seconds; 0: never cached
    types: tuple[str, ...] = ()  # touched entity types, sorted
    private: bool = False
    digest: str = ""

    @property
    def cacheable(self) -> bool:
        return self.query and self.max_age > 0


NOT_CACHEABLE = CachePolicy(query=False, max_age=0)


@dataclass(slots=True)
class _Walk:
    schema: GraphQLSchema
    hints: Mapping[str, TypeHint]
    fragments: dict[str, FragmentDefinitionNode]
    max_age: int | None = None
    types: set[str] = field(default_factory=set)
    private: bool = False
    seen: set[str] = field(default_factory=set)

    def lower(self, seconds: int) -> None:
        self.max_age = seconds if self.max_age is None else min(self.max_age, seconds)

    def objects(self, named: GraphQLNamedType) -> list[GraphQLNamedType]:
        if is_abstract_type(named):
            return list(self.schema.get_possible_types(named))
        return [named]

    def touch_type(self, named: GraphQLNamedType) -> None:
        for t in self.objects(named):
            if is_leaf_type(t):
                continue
            hint = self.hints.get(t.name)
            if hint is None:
                self.lower(0)
                continue
            if hint.max_age is not None:
                self.lower(hint.max_age)
            if hint.entity is not None:
                self.types.add(hint.entity)

    def touch_field(self, parent: GraphQLNamedType, name: str) -> None:
        for owner in self.objects(parent):
            hint = self.hints.get(owner.name)
            if hint is None or name not in hint.fields:
                self.lower(0)
                continue
            self.private = self.private or name in hint.private
            if name in hint.field_max_age:
                self.lower(hint.field_max_age[name])

    def selections(self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode) -> None:
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                self.field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition
                inner = parent if cond is None else self.schema.get_type(cond.name.value)
                self.selections(inner, node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.seen:
                    continue  # unknown (an error) or already counted: same type, same hints
                self.seen.add(name)
                inner = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(inner, fragment.selection_set)

    def field(self, parent: GraphQLNamedType | None, node: FieldNode) -> None:
        name = node.name.value
        if name.startswith("__"):
            return  # __typename, __schema, __type: facts about the schema
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            self.lower(0)
            return
        definition = parent.fields.get(name)
        if definition is None:
            self.lower(0)
            return
        self.touch_field(parent, name)
        named = get_named_type(definition.type)
        self.touch_type(named)
        if node.selection_set is not None:
            self.selections(named, node.selection_set)


def analyze(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    hints: Mapping[str, TypeHint] = HINTS,
) -> CachePolicy:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return NOT_CACHEABLE
    if operation.operation is not OperationType.QUERY:
        return NOT_CACHEABLE
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, hints, fragments)
    walk.selections(schema.query_type, operation.selection_set)
    digest = hashlib.sha256(print_ast(document).encode()).hexdigest()
    return CachePolicy(
        query=True,
        max_age=walk.max_age or 0,
        types=tuple(sorted(walk.types)),
        private=walk.private,
        digest=digest,
    )


class CachePolicies:
    """`analyze` per (query text, operation name), kept in an LRU: a hot operation is
    parsed and walked once per process."""

    def __init__(self, schema: GraphQLSchema, maxsize: int = 1024) -> None:
        self.schema = schema
        self.get = lru_cache(maxsize=maxsize)(self._analyze)

    def _analyze(self, query: str, operation_name: str | None) -> CachePolicy:
        try:
            document = parse_document(query)
        except GraphQLError:
            return NOT_CACHEABLE
        return analyze(self.schema, document, operation_name)
