"""Concurrent GraphQL load for the fault tests: every response is checked to be
well-formed GraphQL over HTTP, and latencies are kept for percentiles."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


def malformed(response: httpx.Response) -> str | None:
    """Why `response` is not a well-formed GraphQL response (None when it is): status
    200, a JSON object with `data` and/or a non-empty `errors` list whose entries each
    have a message and an `extensions.code`."""
    if response.status_code != 200:
        return f"status {response.status_code}: {response.text[:200]}"
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return f"not JSON: {response.text[:200]}"
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return f"neither data nor errors: {response.text[:200]}"
    errors = body.get("errors", [])
    if "errors" in body and (not isinstance(errors, list) or not errors):
        return f"errors is not a non-empty list: {response.text[:200]}"
    for error in errors:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str) or not code:
            return f"an error without message or extensions.code: {error!r}"
    return None


@dataclass
class LoadResult:
    """What a load run saw: latencies (s), status codes, error codes, malformed ones."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    with_errors: int = 0
    malformed: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def percentile(self, q: float) -> float:
        """The q-th percentile latency in ms (nearest rank)."""
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def summary(self, label: str) -> str:
        codes = dict(self.error_codes) or "-"
        return (
            f"[fault-latency] {label}: n={self.count} p50={self.percentile(50):.1f}ms "
            f"p99={self.percentile(99):.1f}ms max={max(self.latencies) * 1000:.1f}ms "
            f"with_errors={self.with_errors} codes={codes} 5xx={self.server_errors} "
            f"malformed={len(self.malformed)}"
        )

    def record(
        self, elapsed: float, response: httpx.Response | None, failure: str, expected: Any = None
    ) -> None:
        self.latencies.append(elapsed)
        if response is None:
            self.malformed.append(failure)
            return
        self.statuses[response.status_code] += 1
        if (reason := malformed(response)) is not None:
            self.malformed.append(reason)
            return
        body = orjson.loads(response.content)
        if errors := body.get("errors", []):
            self.with_errors += 1
            self.error_codes.update(e["extensions"]["code"] for e in errors)
        elif expected is not None and body["data"] != expected:
            self.malformed.append(f"wrong data: {response.text[:200]}")


async def run_load(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    requests: int,
    concurrency: int,
    on_progress: Callable[[int], Awaitable[None]] | None = None,
    headers: dict[str, str] | None = None,
    expected: Any = None,
) -> LoadResult:
    """POST `body` to /graphql `requests` times, `concurrency` at a time. A transport
    error (the gateway closed or reset the connection) counts as malformed, and so does
    an answer without errors whose `data` is not `expected` (when given).
    `on_progress(done)` is awaited after each response, for faults injected mid-load."""
    result = LoadResult()
    pending = iter(range(requests))

    async def one_worker() -> None:
        for _ in pending:
            started = time.perf_counter()
            response: httpx.Response | None = None
            failure = ""
            try:
                response = await client.post("/graphql", json=body, headers=headers)
            except httpx.HTTPError as exc:
                failure = f"transport: {type(exc).__name__}: {exc}"
            result.record(time.perf_counter() - started, response, failure, expected)
            if on_progress is not None:
                await on_progress(result.count)

    await asyncio.gather(*(one_worker() for _ in range(concurrency)))
    return result
