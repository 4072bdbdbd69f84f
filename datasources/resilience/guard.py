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
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pymongo
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from datasources.resilience import budget as budgets
from datasources.resilience.breaker import BreakerConfig, BreakerOpen, BreakerState, CircuitBreaker
from datasources.resilience.errors import is_busy, is_retryable, is_store_failure, to_upstream
from domain.errors import UpstreamUnavailable

log = logging.getLogger("hiregraph.resilience")
T = TypeVar("T")

# Stores whose driver takes a per-operation deadline of its own (PyMongo's client-side
# operation timeout, a contextvar): the guard sets it rather than cancelling the call.
DRIVER_DEADLINES: dict[str, Callable[[float], AbstractContextManager[Any]]] = {
    "mongo": pymongo.timeout
}
BACKSTOP_SECONDS = 0.25


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
        # While `reachable()` is false, calls wait at most `unreachable_timeout`: set for
        # a driver that would otherwise spend the whole call timeout selecting a server.
        self.reachable: Callable[[], bool] | None = None
        self.unreachable_timeout = policy.timeout_seconds
        self.calls = 0  # attempts that reached the driver (for metrics and tests)
        self.retries = 0
        self._backoff = wait_random_exponential(
            multiplier=policy.backoff_initial_seconds, max=policy.backoff_max_seconds
        )

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
            try:
                return await self._once(fn, args, kwargs)
            except Exception as first:
                if not retry or not self._worth_retrying(first, budget):
                    raise
                return await self._retry(fn, args, kwargs, budget)
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

    def _worth_retrying(self, exc: BaseException, budget: budgets.RequestBudget | None) -> bool:
        if not is_retryable(exc):
            return False
        remaining = budget.remaining() if budget is not None else None
        if remaining is not None and remaining <= self.policy.backoff_max_seconds:
            return False  # no time left for a backoff and another attempt
        return budget is None or budget.take_retry()

    async def _retry(
        self,
        fn: Callable[..., Awaitable[T]],
        args: Any,
        kwargs: Any,
        budget: budgets.RequestBudget | None,
    ) -> T:
        """The retries after a first attempt failed at the connection. The first attempt
        runs outside tenacity, so the common case (it succeeds) costs no retry machinery
        (~90 us per call, measured)."""
        p = self.policy

        def before(state: RetryCallState) -> None:
            self.retries += 1
            log.info("retrying a %s read (retry %d)", self.store, state.attempt_number)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(p.retry_attempts),
            # Full jitter: a random wait up to initial * 2^n (capped), so clients that
            # failed together do not retry together.
            wait=self._backoff,
            retry=retry_if_exception(lambda exc: self._worth_retrying(exc, budget)),
            before=before,
            reraise=True,
        )
        await asyncio.sleep(self._backoff(RetryCallState(retrying, None, (), {})))
        async for attempt in retrying:
            with attempt:
                return await self._once(fn, args, kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    async def _once(self, fn: Callable[..., Awaitable[T]], args: Any, kwargs: Any) -> T:
        self.breaker.before_call()
        timeout = self.policy.timeout_seconds
        budget = budgets.current()
        remaining = budget.remaining() if budget is not None else None
        if self.reachable is not None and not self.reachable():
            timeout = min(timeout, self.unreachable_timeout)
        if remaining is not None:
            timeout = max(0.001, min(timeout, remaining))
        self.calls += 1
        try:
            driver_deadline = DRIVER_DEADLINES.get(self.store)
            if driver_deadline is None:
                async with asyncio.timeout(timeout):
                    result = await fn(*args, **kwargs)
            else:
                # The driver enforces the deadline itself (server selection, checkout,
                # I/O). PyMongo must never be cancelled: cancelling it mid server
                # selection breaks its topology lock ("Lock is not acquired", then
                # hangs). Past a backstop the call is abandoned, not cancelled: it runs
                # on in its own task until the driver's deadline ends it.
                with driver_deadline(timeout):
                    task = asyncio.ensure_future(fn(*args, **kwargs))  # the deadline's context
                task.add_done_callback(_retrieve)
                done, _ = await asyncio.wait({task}, timeout=timeout + BACKSTOP_SECONDS)
                if not done:
                    raise TimeoutError(f"{self.store}: no answer within the backstop")
                result = task.result()
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


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark an abandoned call's outcome as seen (no "exception never retrieved")."""
    if not task.cancelled():
        task.exception()


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
