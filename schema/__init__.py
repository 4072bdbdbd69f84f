"""The HireGraph GraphQL schema."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from schema.errors import ErrorCodes
from schema.query import Query
from schema.roundtrips import ExposedRoundTripCounter, RoundTripCounter


class HireGraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (bad input, not found) are the client's business, not log noise;
        # ErrorCodes logs every unexpected error once, with the id the client sees.
        return None


def build_schema(*, expose_round_trips: bool = False) -> strawberry.Schema:
    """The schema; `expose_round_trips` adds `extensions.roundTrips` to every response."""
    counter = ExposedRoundTripCounter if expose_round_trips else RoundTripCounter
    return HireGraphSchema(
        query=Query,
        extensions=[
            counter,
            ErrorCodes,
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaxAliasesLimiter(max_alias_count=30),
        ],
    )


def sdl() -> str:
    return build_schema().as_str() + "\n"
