"""The one per-operation extension: caches, limits, round-trip counting, error codes.

Strawberry wraps every hook of every extension in a context manager per request, so
the gateway's per-operation concerns live in a single extension:
- parse and validation results are cached per document (bounded LRU), with the depth
  and alias limits as static rules, so a repeated query skips both steps;
- a fresh round-trip counter is set for the operation (and reported in `extensions`
  when exposed);
- every error leaves with `extensions.code` (see schema.errors).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.schema import validate_document

from datasources import roundtrips
from schema.errors import apply_error_codes

MAX_DEPTH = 12
MAX_ALIASES = 30
CACHED_DOCUMENTS = 512

# Built once: a rule class per request would defeat the validation cache's key.
RULES: tuple[Any, ...] = (max_depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES))

_ALL_RULES = (*specified_rules, *RULES)  # what a Strawberry operation validates with

_parse: Callable[..., Any] = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
_validate: Callable[..., Any] = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


def valid_document(schema: GraphQLSchema, query: str) -> DocumentNode | None:
    """The parsed document when it is valid under the rules every operation runs with
    (graphql-core's, Strawberry's and the limits), from the same caches; else None."""
    try:
        document = _parse(query)
    except GraphQLError:
        return None
    return None if _validate(schema, document, _ALL_RULES) else document


class GatewayOperation(SchemaExtension):
    expose_round_trips = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + RULES
        roundtrips.begin()
        yield
        apply_error_codes(context)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # A syntax error is left to Strawberry's own parse, which reports it as a
        # normal parse error inside the operation (and so gets its error code).
        with contextlib.suppress(GraphQLError):
            context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = _validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield

    def get_results(self) -> dict[str, Any]:
        counter = roundtrips.current()
        if not self.expose_round_trips or counter is None:
            return {}
        return {"roundTrips": counter.as_dict()}


class GatewayOperationWithRoundTrips(GatewayOperation):
    expose_round_trips = True
