"""`OperationLimits.check`: every limit of one operation, before either executor runs.

Parse and validation come from the caches Strawberry's operations and the compiled
path use (schema.operation), so checking first costs a dictionary lookup for a
repeated document, and the executor that follows finds the same cached results.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, GraphQLSchema

from domain.errors import LimitExceeded
from domain.viewer import Role, Viewer
from schema.limits.cost import check_cost, cost_budget, operation_cost
from schema.limits.static import (
    ALIAS_LIMIT,
    DIRECTIVE_LIMIT,
    QUERY_TOO_DEEP,
    StaticLimits,
    parse_error_code,
)
from schema.operation import parse_document, validation_errors

_CACHED_COSTS = 1024
STATIC_CODES = frozenset({QUERY_TOO_DEEP, ALIAS_LIMIT, DIRECTIVE_LIMIT})


def _limit_exceeded(error: GraphQLError, code: str) -> LimitExceeded:
    extensions = {k: v for k, v in (error.extensions or {}).items() if k != "code"}
    return LimitExceeded(code, error.message, extensions)


class OperationLimits:
    """The static limits and cost budgets of operations on one schema."""

    def __init__(
        self,
        schema: GraphQLSchema,
        budgets: Mapping[Role, int],
        limits: StaticLimits = StaticLimits(),  # noqa: B008 (frozen, hashable)
    ) -> None:
        missing = set(Role) - budgets.keys()
        if missing:
            raise ValueError(f"no cost budget for roles {sorted(missing)}")
        self.schema = schema
        self.budgets = dict(budgets)
        self.limits = limits
        # Costs of operations without variables, by (document, operation name): what a
        # repeated operation costs does not change, and computing it (validation from the
        # cache hashes the document) is most of this check's time.
        self._costs: OrderedDict[tuple[str, str | None], int] = OrderedDict()

    def check(
        self,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        viewer: Viewer,
    ) -> int:
        """The operation's cost; raises LimitExceeded (TOKEN_LIMIT, QUERY_TOO_DEEP,
        ALIAS_LIMIT, DIRECTIVE_LIMIT, COST_LIMIT) for an operation over a limit.

        A document with any other syntax or validation error costs 0 here: the
        executor reports that error itself, without touching a store.
        """
        if variables:
            cost = self._cost(query, operation_name, variables)
        else:
            key = (query, operation_name)
            found = self._costs.get(key)
            if found is None:
                found = self._costs[key] = self._cost(query, operation_name, None)
                if len(self._costs) > _CACHED_COSTS:
                    self._costs.popitem(last=False)
            cost = found
        check_cost(cost, cost_budget(viewer, self.budgets))
        return cost

    def _cost(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> int:
        """The static limits, then the cost (0 for an invalid document)."""
        try:
            document = parse_document(query, self.limits)
        except GraphQLError as syntax_error:
            code = parse_error_code(syntax_error)
            if code is not None:
                raise _limit_exceeded(syntax_error, code) from None
            return 0
        errors = validation_errors(self.schema, document, self.limits)
        for error in errors:
            static_code = (error.extensions or {}).get("code")
            if static_code in STATIC_CODES:
                raise _limit_exceeded(error, str(static_code))
        if errors:
            return 0
        return operation_cost(self.schema, document, operation_name, variables)
