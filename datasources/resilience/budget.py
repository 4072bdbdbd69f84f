"""The per-request call budget: the operation's deadline, its retry allowance, and the
stores that already failed it.

Set once per HTTP request by the gateway (a ContextVar, so every resolver task of the
request sees the same budget) and read by each store guard: a call's timeout is the
smaller of its store's timeout and what is left of the deadline; a retry spends one
unit of the request's allowance; and a store that failed once in a request fails the
request's later calls at once (with the same error), instead of making the client wait
for the same dead store again (a compiled operation that falls back to graphql-core
would otherwise wait twice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from domain.errors import UpstreamUnavailable

# Per-call timeouts end this long before the deadline, so a slow store's field fails
# with UPSTREAM_TIMEOUT and the rest of the response still goes out in time.
DEADLINE_MARGIN_SECONDS = 0.05


@dataclass(slots=True)
class RequestBudget:
    deadline: float | None  # the event loop's clock
    retries_left: int
    failed: dict[str, UpstreamUnavailable] = field(default_factory=dict)

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - asyncio.get_running_loop().time() - DEADLINE_MARGIN_SECONDS

    def take_retry(self) -> bool:
        if self.retries_left <= 0:
            return False
        self.retries_left -= 1
        return True


_CURRENT: ContextVar[RequestBudget | None] = ContextVar("hiregraph_request_budget", default=None)


def current() -> RequestBudget | None:
    return _CURRENT.get()


@contextmanager
def request_budget(seconds: float | None, retries: int) -> Iterator[RequestBudget]:
    """The budget of one request: `seconds` to the deadline (None: none), `retries`."""
    loop_time = asyncio.get_running_loop().time()
    budget = RequestBudget(None if seconds is None else loop_time + seconds, retries)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)
