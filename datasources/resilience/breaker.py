"""A circuit breaker per store: closed -> open -> half-open -> closed.

Closed: calls pass; `failure_threshold` store failures in a row open it. Open: calls
fail at once, without touching the network, for `reset_seconds`. Half-open: at most
`half_open_probes` calls pass as probes; one success closes the breaker, one failure
opens it again. Only store failures count (connection errors, timeouts): a query error
or a missing row says nothing about the store's health, and a busy pool is this
process's own back-pressure (the guard reports both as neutral).

Pure state, no I/O: the clock is injectable, so the state machine is unit-tested.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("hiregraph.resilience")


class BreakerState(enum.IntEnum):
    """The gauge values exported as `hiregraph_circuit_breaker_state`."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 5
    reset_seconds: float = 5.0
    half_open_probes: int = 1


class BreakerOpen(Exception):
    """Raised by `before_call` while the breaker refuses calls."""

    def __init__(self, store: str, retry_in: float) -> None:
        super().__init__(f"{store}: circuit breaker open, retry in {retry_in:.1f}s")
        self.store = store
        self.retry_in = retry_in


class CircuitBreaker:
    def __init__(
        self,
        store: str,
        config: BreakerConfig,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.config = config
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0  # consecutive, while closed
        self._opened_at = 0.0
        self._probes = 0  # in flight, while half-open
        self.opened = 0  # times it opened (a counter for metrics and tests)
        self.rejected = 0  # calls refused while open

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self.config.reset_seconds
        ):
            self._move(BreakerState.HALF_OPEN)
            self._probes = 0
        return self._state

    def before_call(self) -> None:
        """Admit a call or raise BreakerOpen; every admitted call must end in
        `on_success` or `on_failure` (or `on_neutral`, when it proved nothing)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and self._probes < self.config.half_open_probes:
            self._probes += 1
            return
        self.rejected += 1
        retry_in = max(0.0, self._opened_at + self.config.reset_seconds - self._clock())
        raise BreakerOpen(self.store, retry_in)

    def on_success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED)
        self._failures = 0

    def on_failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._state is BreakerState.CLOSED and self._failures >= self.config.failure_threshold:
            self._open()

    def on_neutral(self) -> None:
        """The call ended without telling anything about the store (cancelled, a query
        error): a half-open probe slot is given back."""
        if self._state is BreakerState.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._failures = 0
        self.opened += 1
        self._move(BreakerState.OPEN)

    def _move(self, to: BreakerState) -> None:
        if to is not self._state:
            log.warning("circuit breaker %s: %s -> %s", self.store, self._state.name, to.name)
            self._state = to
