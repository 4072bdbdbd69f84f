"""Failure handling for store calls: a guard per store (circuit breaker, per-call
timeout under the request's deadline, retries of idempotent reads) and the registry
the observability layer reads (`Resilience.breakers()`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from datasources.resilience.breaker import BreakerConfig, BreakerOpen, BreakerState, CircuitBreaker
from datasources.resilience.budget import RequestBudget, current, request_budget
from datasources.resilience.guard import Guarded, StoreGuard, StorePolicy

T = TypeVar("T")


@dataclass
class Resilience:
    """One guard per store, for one app (tests build many apps: nothing global)."""

    guards: dict[str, StoreGuard]
    # States of breakers kept elsewhere (the Redis cache's cooldown), by store.
    external: dict[str, Callable[[], BreakerState]] = field(default_factory=dict)

    @classmethod
    def create(cls, policies: Mapping[str, StorePolicy]) -> Resilience:
        return cls({store: StoreGuard(store, p) for store, p in policies.items()})

    def reads(self, store: str, port: T) -> T:
        """A read port of `store`: guarded, connection failures retried."""
        guarded: Any = Guarded(port, self.guards[store], retry=True)
        return guarded  # type: ignore[no-any-return]

    def writes(self, store: str, port: T) -> T:
        """A write port of `store`: guarded, never retried."""
        guarded: Any = Guarded(port, self.guards[store], retry=False)
        return guarded  # type: ignore[no-any-return]

    def bound_when_unreachable(
        self, store: str, reachable: Callable[[], bool], timeout_seconds: float
    ) -> None:
        """While `reachable()` is false, `store`'s calls wait at most `timeout_seconds`
        (PyMongo's operation deadline replaces its server selection timeout: without
        this, a Mongo that is down costs the whole store timeout per call)."""
        guard = self.guards[store]
        guard.reachable = reachable
        guard.unreachable_timeout = min(timeout_seconds, guard.policy.timeout_seconds)

    def breakers(self) -> dict[str, BreakerState]:
        """Store name -> breaker state, for metrics and readiness."""
        states = {store: g.state for store, g in self.guards.items()}
        states.update({store: state() for store, state in self.external.items()})
        return states


__all__ = [
    "BreakerConfig",
    "BreakerOpen",
    "BreakerState",
    "CircuitBreaker",
    "Guarded",
    "RequestBudget",
    "Resilience",
    "StoreGuard",
    "StorePolicy",
    "current",
    "request_budget",
]
