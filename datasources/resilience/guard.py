"""The store guard: every call to one store through its circuit breaker, a timeout
bounded by the request's deadline, and (reads only) retries of connection failures.

A failure leaves as a domain error carrying the store's name: UpstreamUnavailable
(refused, reset, breaker open), UpstreamTimeout or UpstreamBusy (`errors.to_upstream`).
Mutations are never retried here: a write whose answer was lost may have committed,
and the Idempotency-Key is the client's tool for sending it again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from datasources.resilience import budget as budgets
from datasources.resilience.breaker import BreakerConfig, BreakerOpen, BreakerState, CircuitBreaker
from datasources.resilience.errors import is_busy, is_retryable, is_store_failure, to_upstream
from domain.errors import UpstreamUnavailable

log = logging.getLogger("hiregraph.resilience")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StorePolicy:
    timeout_seconds: float = 2.0
    retry_attempts: int = 2  # retries after the first attempt (reads only)
    backoff_initial_seconds: float = 0.05
    backoff_max_seconds: float = 0.5
    breaker: BreakerConfig = field(default_factory=BreakerConfig)


class StoreGuard:
    def __init__(
        self, store: str, policy: StorePolicy, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.policy = policy
        self.breaker = CircuitBreaker(store, policy.breaker, clock)
        self.calls = 0  # attempts that reached the driver (for metrics and tests)
        self.retries = 0

    @property
    def state(self) -> BreakerState:
        return self.breaker.state

    async def call(
        self, fn: Callable[..., Awaitable[T]], *args: Any, retry: bool = False, **kwargs: Any
    ) -> T:
        budget = budgets.current()
        if budget is not None and (failed := budget.failed.get(self.store)) is not None:
            raise _again(failed)
        try:
            if not retry or self.policy.retry_attempts <= 0:
                return await self._once(fn, args, kwargs)
            async for attempt in self._retrying(budget):
                with attempt:
                    return await self._once(fn, args, kwargs)
            raise AssertionError("unreachable: tenacity re-raises the last failure")
        except BreakerOpen as exc:
            error: UpstreamUnavailable = UpstreamUnavailable(self.store, str(exc))
            cause: BaseException = exc
        except Exception as exc:
            if not is_store_failure(exc):
                raise
            error, cause = to_upstream(self.store, exc), exc
        if budget is not None:
            budget.failed[self.store] = error
        raise error from cause

    def _retrying(self, budget: budgets.RequestBudget | None) -> AsyncRetrying:
        p = self.policy

        def worth_retrying(exc: BaseException) -> bool:
            if not is_retryable(exc):
                return False
            remaining = budget.remaining() if budget is not None else None
            if remaining is not None and remaining <= p.backoff_max_seconds:
                return False  # no time left for a backoff and another attempt
            return budget is None or budget.take_retry()

        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info("retrying a %s read after %s", self.store, type(exc).__name__)

        return AsyncRetrying(
            stop=stop_after_attempt(p.retry_attempts + 1),
            # Full jitter: a random wait up to initial * 2^n (capped), so clients that
            # failed together do not retry together.
            wait=wait_random_exponential(
                multiplier=p.backoff_initial_seconds, max=p.backoff_max_seconds
            ),
            retry=retry_if_exception(worth_retrying),
            before_sleep=before_sleep,
            reraise=True,
        )

    async def _once(self, fn: Callable[..., Awaitable[T]], args: Any, kwargs: Any) -> T:
        self.breaker.before_call()
        timeout = self.policy.timeout_seconds
        budget = budgets.current()
        remaining = budget.remaining() if budget is not None else None
        if remaining is not None:
            timeout = max(0.001, min(timeout, remaining))
        self.calls += 1
        try:
            async with asyncio.timeout(timeout):
                result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            self.breaker.on_neutral()
            raise
        except Exception as exc:
            # A query error says nothing about the store, and a busy pool is this
            # process's own back-pressure: neither moves the breaker.
            if is_store_failure(exc) and not is_busy(exc):
                self.breaker.on_failure()
            else:
                self.breaker.on_neutral()
            raise
        self.breaker.on_success()
        return result


def _again(error: UpstreamUnavailable) -> UpstreamUnavailable:
    """A fresh copy of a request's earlier store failure (one exception object raised at
    many places would grow its traceback each time)."""
    return type(error)(error.store, error.message)


class Guarded:
    """`inner` with each of its coroutine methods called through `guard`.

    `retry=True` only for read ports: every method of a read port is an idempotent read.
    """

    def __init__(self, inner: Any, guard: StoreGuard, *, retry: bool) -> None:
        self._inner = inner
        self._guard = guard
        self._retry = retry

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        guard, retry = self._guard, self._retry

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            return await guard.call(attr, *args, retry=retry, **kwargs)

        self.__dict__[name] = guarded  # later lookups skip __getattr__
        return guarded

    def __repr__(self) -> str:
        return f"Guarded({self._inner!r}, {self._guard.store})"
