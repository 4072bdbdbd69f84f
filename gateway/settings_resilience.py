"""Failure handling settings (issue 9). Env: HIREGRAPH_RESILIENCE__<NAME>, per store
HIREGRAPH_RESILIENCE__MONGO__TIMEOUT_SECONDS and so on.

These add to the pool and driver timeouts of `PoolSettings` (pool acquire, connect,
`statement_timeout`, Mongo server selection, socket and wait-queue timeouts, Redis
socket timeouts), which stay where they are: here are the per-call bound the guard
puts around every store call (itself capped by what is left of
HIREGRAPH_LIMITS__EXECUTION_TIMEOUT_SECONDS), read retries and the circuit breakers.
Redis has no section: the caches already bound every Redis call and skip Redis after
failures (HIREGRAPH_CACHE__REDIS_TIMEOUT_SECONDS, __REDIS_FAILURES_TO_TRIP,
__REDIS_RETRY_SECONDS), which is its breaker.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from datasources.resilience import BreakerConfig, StorePolicy


class StoreResilienceSettings(BaseModel):
    # A backstop above the drivers' own bounds (Postgres statement_timeout 5 s, which
    # cancels on the server first), short enough that a hung store costs a field, not
    # the request (HIREGRAPH_LIMITS__EXECUTION_TIMEOUT_SECONDS is 10 s). Candidate
    # matching on the embedded Mongo-wire server takes seconds on a busy machine.
    timeout_seconds: float = Field(6.0, gt=0)
    # Retries of a read after a connection-level failure (refused, reset); 0: none.
    retry_attempts: int = Field(2, ge=0, le=10)
    # Store failures in a row that open the breaker; while open, calls fail at once.
    breaker_failure_threshold: int = Field(5, ge=1, le=1000)
    # How long the breaker stays open before letting probe calls through.
    breaker_reset_seconds: float = Field(5.0, gt=0)
    # Calls let through while half-open; one success closes, one failure reopens.
    breaker_half_open_probes: int = Field(1, ge=1, le=100)

    def policy(self, backoff_initial: float, backoff_max: float) -> StorePolicy:
        return StorePolicy(
            timeout_seconds=self.timeout_seconds,
            retry_attempts=self.retry_attempts,
            backoff_initial_seconds=backoff_initial,
            backoff_max_seconds=backoff_max,
            breaker=BreakerConfig(
                failure_threshold=self.breaker_failure_threshold,
                reset_seconds=self.breaker_reset_seconds,
                half_open_probes=self.breaker_half_open_probes,
            ),
        )


class ResilienceSettings(BaseModel):
    postgres: StoreResilienceSettings = StoreResilienceSettings()
    mongo: StoreResilienceSettings = StoreResilienceSettings()
    # Jittered exponential backoff between read retries: initial, doubling, capped.
    retry_backoff_initial_seconds: float = Field(0.05, gt=0)
    retry_backoff_max_seconds: float = Field(0.5, gt=0)
    # Retries one request may spend across all its store calls: a flapping store
    # must not multiply a request's calls by the per-call attempts.
    retry_budget_per_request: int = Field(3, ge=0, le=100)
    # `hiregraph serve` waits this long for in-flight requests on SIGTERM (uvicorn's
    # timeout_graceful_shutdown); Kubernetes' terminationGracePeriodSeconds must exceed
    # the preStop sleep plus this.
    shutdown_grace_seconds: int = Field(10, ge=0, le=600)

    def policies(self) -> dict[str, StorePolicy]:
        initial, cap = self.retry_backoff_initial_seconds, self.retry_backoff_max_seconds
        return {
            "postgres": self.postgres.policy(initial, cap),
            "mongo": self.mongo.policy(initial, cap),
        }
