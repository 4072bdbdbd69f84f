"""The request-level limits: body size, batching, execution time; error responses.

Error codes: BODY_TOO_LARGE (413), BATCHING_DISABLED and BATCH_LIMIT (400),
RATE_LIMITED (429, with Retry-After and RateLimit-* headers) and TIMEOUT (504).
The operation-level codes (schema.limits) answer 200 with `errors`, as any GraphQL
validation error does over application/json.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from domain.errors import LimitExceeded
from gateway.limits.rate import Decision

BODY_TOO_LARGE = "BODY_TOO_LARGE"
BATCHING_DISABLED = "BATCHING_DISABLED"
BATCH_LIMIT = "BATCH_LIMIT"
RATE_LIMITED = "RATE_LIMITED"
TIMEOUT = "TIMEOUT"

HTTP_STATUS = {
    BODY_TOO_LARGE: 413,
    BATCHING_DISABLED: 400,
    BATCH_LIMIT: 400,
    RATE_LIMITED: 429,
    TIMEOUT: 504,
}


def check_body_size(size: int, max_bytes: int) -> None:
    """Call with Content-Length before reading, and with the running total while reading
    (a chunked body has no Content-Length)."""
    if size > max_bytes:
        raise LimitExceeded(
            BODY_TOO_LARGE,
            f"The request body exceeds {max_bytes} bytes.",
            {"limit": max_bytes},
        )


def operations(
    payload: object, *, batching_enabled: bool, max_operations: int
) -> list[dict[str, Any]]:
    """The operations of a decoded JSON body: one for an object, each of a batch (a JSON
    array). Anything else is left to the GraphQL view, which reports it."""
    if not isinstance(payload, list):
        return [payload] if isinstance(payload, dict) else []
    if not batching_enabled:
        raise LimitExceeded(
            BATCHING_DISABLED, "Batched requests (a JSON array body) are not accepted."
        )
    if len(payload) > max_operations:
        raise LimitExceeded(
            BATCH_LIMIT,
            f"A batch may hold at most {max_operations} operations, got {len(payload)}.",
            {"limit": max_operations, "actual": len(payload)},
        )
    return [p for p in payload if isinstance(p, dict)]


class RateLimited(LimitExceeded):
    """RATE_LIMITED, with the headers the 429 response must carry."""

    def __init__(self, decision: Decision) -> None:
        self.headers = decision.headers()
        retry_after = int(self.headers["Retry-After"])
        super().__init__(
            RATE_LIMITED,
            f"Rate limit of {decision.limit} cost units per {decision.window}s exceeded.",
            {"limit": decision.limit, "remaining": decision.remaining, "retryAfter": retry_after},
        )


def check_rate(decision: Decision) -> None:
    if not decision.allowed:
        raise RateLimited(decision)


@asynccontextmanager
async def execution_timeout(seconds: float) -> AsyncIterator[None]:
    """Cancel what runs inside after `seconds` and raise LimitExceeded(TIMEOUT); a
    TimeoutError raised by the work itself (a store's) passes through unchanged."""
    deadline = asyncio.timeout(seconds)
    overran = LimitExceeded(
        TIMEOUT, f"The operation took longer than {seconds:g}s.", {"limit": seconds}
    )
    try:
        async with deadline:
            yield
    except TimeoutError:
        if not deadline.expired():
            raise
        raise overran from None
    # The cancellation can be lost: redis-py (8.1) finishes a command whose task was
    # cancelled mid-flight without raising. The work then ran on past the deadline; its
    # result is dropped all the same, so the limit holds for the client.
    if deadline.expired():
        raise overran


def error_body(error: LimitExceeded) -> dict[str, Any]:
    """A GraphQL response body for a request refused before execution."""
    extensions = {"code": error.code, **error.extensions}
    return {"errors": [{"message": error.message, "extensions": extensions}]}


def error_status(error: LimitExceeded) -> int:
    return HTTP_STATUS.get(error.code, 200)
