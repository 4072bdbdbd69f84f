"""The one per-operation extension: caches, limits, round-trip counting, error codes.

Strawberry wraps every hook of every extension in a context manager per request, so
the gateway's per-operation concerns live in a single extension:
- parse and validation results are cached per document (bounded LRU), with the token
  limit as a parse option and the depth, alias and directive limits (schema.limits) as
  static rules, so a repeated query skips both steps;
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
from strawberry.schema.schema import validate_document
from strawberry.types.execution import ParseOptions

from datasources import roundtrips
from schema.errors import apply_error_codes
from schema.limits.static import StaticLimits, limits_rule

LIMITS = StaticLimits()  # the defaults; the gateway's settings may build their own
CACHED_DOCUMENTS = 512


@lru_cache(maxsize=8)
def rules_for(limits: StaticLimits) -> tuple[Any, ...]:
    """All validation rules under `limits`, one tuple per limits value: a rule class
    per request would defeat the validation cache, which is keyed by the rules."""
    return (*specified_rules, limits_rule(limits))


_SPECIFIED = len(specified_rules)
RULES: tuple[Any, ...] = rules_for(LIMITS)[_SPECIFIED:]  # added to Strawberry's
_ALL_RULES = rules_for(LIMITS)  # what a Strawberry operation validates with

_parse: Callable[..., Any] = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
_validate: Callable[..., Any] = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


def parse_options(limits: StaticLimits = LIMITS) -> ParseOptions:
    return ParseOptions(max_tokens=limits.max_tokens)


def parse_document(query: str, limits: StaticLimits = LIMITS) -> DocumentNode:
    """The parsed document from the cache shared with Strawberry's operations; raises
    graphql-core's GraphQLSyntaxError (a token limit error is one, see schema.limits)."""
    document: DocumentNode = _parse(query, **parse_options(limits))
    return document


def validation_errors(
    schema: GraphQLSchema, document: DocumentNode, limits: StaticLimits = LIMITS
) -> list[GraphQLError]:
    errors: list[GraphQLError] = _validate(schema, document, rules_for(limits))
    return errors


def valid_document(
    schema: GraphQLSchema, query: str, limits: StaticLimits = LIMITS
) -> DocumentNode | None:
    """The parsed document when it is valid under the rules every operation runs with
    (graphql-core's, Strawberry's and the limits), from the same caches; else None."""
    try:
        document = parse_document(query, limits)
    except GraphQLError:
        return None
    return None if validation_errors(schema, document, limits) else document


class GatewayOperation(SchemaExtension):
    expose_round_trips = False
    limits = LIMITS  # `operation_extension` makes a subclass for the gateway's settings

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + rules_for(self.limits)[_SPECIFIED:]
        context.parse_options = parse_options(self.limits)
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
        # Mutations and subscriptions read from the primaries (gateway/replicas.py).
        ctx = context.context
        replicated = getattr(getattr(ctx, "datasources", None), "primary", None) is not None
        if replicated and not context.pre_execution_errors:
            with contextlib.suppress(RuntimeError):  # no such operation: reported later
                ctx.reads_for(context.operation_type.value)
        yield

    def get_results(self) -> dict[str, Any]:
        counter = roundtrips.current()
        if not self.expose_round_trips or counter is None:
            return {}
        return {"roundTrips": counter.as_dict()}


class GatewayOperationWithRoundTrips(GatewayOperation):
    expose_round_trips = True


def operation_extension(
    *, expose_round_trips: bool, limits: StaticLimits = LIMITS
) -> type[GatewayOperation]:
    """The extension class for one schema: its round-trip reporting and static limits."""
    base = GatewayOperationWithRoundTrips if expose_round_trips else GatewayOperation
    if limits == LIMITS:
        return base
    return type(base.__name__, (base,), {"limits": limits})
