"""Every limit of issue 4, for the HTTP layer to apply before either executor runs.

Order per request (see the README):
1. `check_body_size` on Content-Length and while reading (BODY_TOO_LARGE, 413);
2. `operations(payload, ...)` (BATCHING_DISABLED / BATCH_LIMIT, 400);
3. per operation, `GatewayLimits.admit(...)`: static limits and cost (schema.limits,
   200 with `errors`), then the rate limit (RATE_LIMITED, 429 with `Decision.headers()`);
4. execute inside `execution_timeout(settings.execution_timeout_seconds)` (TIMEOUT, 504).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLSchema

from domain.viewer import Viewer
from gateway.limits.http import (
    RateLimited,
    check_body_size,
    check_rate,
    error_body,
    error_status,
    execution_timeout,
    operations,
)
from gateway.limits.rate import Decision, RateLimiter, rate_identity, rate_limit_for
from gateway.settings import LimitSettings
from schema.limits.check import OperationLimits
from schema.limits.static import StaticLimits

__all__ = [
    "Admitted",
    "Decision",
    "GatewayLimits",
    "RateLimited",
    "RateLimiter",
    "check_body_size",
    "error_body",
    "error_status",
    "execution_timeout",
    "operations",
]


def static_limits(settings: LimitSettings) -> StaticLimits:
    return StaticLimits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_directives=settings.max_directives,
        max_tokens=settings.max_tokens,
    )


@dataclass(frozen=True, slots=True)
class Admitted:
    cost: int
    rate: Decision  # its headers() belong on the response either way


@dataclass(frozen=True, slots=True)
class GatewayLimits:
    settings: LimitSettings
    operation_limits: OperationLimits
    rate_limiter: RateLimiter

    @classmethod
    def create(
        cls, settings: LimitSettings, schema: GraphQLSchema, redis_url: str | None
    ) -> GatewayLimits:
        """Built once in the lifespan; `aclose()` it on shutdown."""
        return cls(
            settings,
            OperationLimits(schema, settings.cost_budgets, static_limits(settings)),
            RateLimiter(
                redis_url,
                key_prefix=settings.rate_limit_key_prefix,
                timeout=settings.rate_limit_redis_timeout,
                retry_seconds=settings.rate_limit_redis_retry_seconds,
                lease_fraction=settings.rate_lease_fraction,
                lease_seconds=settings.rate_lease_seconds,
            ),
        )

    async def admit(
        self,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        viewer: Viewer,
        client_ip: str | None,
    ) -> Admitted:
        """Static limits, cost, then rate; raises LimitExceeded with the first code hit
        (RateLimited, carrying its 429 headers, for the rate). An operation refused by a
        static limit or its cost spends no rate units; an admitted one spends its cost."""
        cost = self.operation_limits.check(query, operation_name, variables, viewer)
        decision = await self.rate_limiter.hit(
            rate_identity(viewer, client_ip),
            rate_limit_for(viewer, self.settings.rate_limits),
            cost,
        )
        check_rate(decision)
        return Admitted(cost, decision)

    async def aclose(self) -> None:
        await self.rate_limiter.aclose()
