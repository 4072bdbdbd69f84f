"""The HireGraph GraphQL schema."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.types import ExecutionContext

from schema.fastpath import PlannedExecutionContext
from schema.limits.static import StaticLimits
from schema.mutation import Mutation
from schema.operation import LIMITS, operation_extension
from schema.query import Query
from schema.subscription import Subscription
from schema.types.node import PrefetchedResolver


class HireGraphSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (bad input, not found) are the client's business, not log noise;
        # apply_error_codes logs every unexpected error once, with the id the client sees.
        return None


# Edges whose value the expander stores per response key on the parent object. Strawberry
# would build an Info and convert the arguments for every item; the expander already
# used the arguments, so graphql-core calls this one-line lookup directly.
PREFETCHED_EDGES = {
    "Job": ("applications", "matchingCandidates"),
    "Company": ("jobs",),
    "Candidate": ("applications", "matchingJobs"),
}


def _install_prefetched_resolvers(schema: strawberry.Schema) -> None:
    for type_name, fields in PREFETCHED_EDGES.items():
        graphql_type = schema._schema.type_map[type_name]
        for field_name in fields:
            graphql_type.fields[field_name].resolve = PrefetchedResolver()  # type: ignore[attr-defined]


def build_schema(
    *,
    expose_round_trips: bool = False,
    planned: bool = True,
    limits: StaticLimits = LIMITS,
    max_batch_operations: int | None = None,
) -> strawberry.Schema:
    """The schema.

    `expose_round_trips` adds `extensions.roundTrips` to every response; `planned=False`
    leaves every object to graphql-core's own completion (for comparison and diagnosis).
    `limits` are the static limits operations are validated under, and
    `max_batch_operations` turns on batched requests (JSON arrays) of at most that many.
    """
    batching = (
        None
        if max_batch_operations is None
        else BatchingConfig(max_operations=max_batch_operations)
    )
    schema = HireGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=PlannedExecutionContext if planned else None,
        extensions=[operation_extension(expose_round_trips=expose_round_trips, limits=limits)],
        config=StrawberryConfig(batching_config=batching),
    )
    _install_prefetched_resolvers(schema)
    return schema


def sdl() -> str:
    return build_schema().as_str() + "\n"
