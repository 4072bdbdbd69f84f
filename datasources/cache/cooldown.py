"""A cache layer's stance towards a failing Redis: count the failure, then stay away.

After `failures_to_trip` failures in a row, Redis is left alone for `retry_seconds`,
so an outage costs a few short timeouts per retry period rather than one per request
(as the rate limiter does, gateway/limits/rate.py), while one late answer on a busy
event loop does not switch a cache off. Only real failures are counted; calls skipped
meanwhile are not.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from datasources.cache.keys import CacheStats

log = logging.getLogger("hiregraph.cache")


class Cooldown:
    def __init__(
        self,
        layer: str,
        consequence: str,
        stats: CacheStats,
        retry_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        failures_to_trip: int = 1,
    ) -> None:
        self.layer, self.consequence = layer, consequence  # for the log line
        self.stats, self.retry_seconds, self._clock = stats, retry_seconds, clock
        self._down_until = -math.inf
        self.failures_to_trip, self._failures = failures_to_trip, 0

    @property
    def available(self) -> bool:
        return self._clock() >= self._down_until

    def succeeded(self) -> None:
        self._failures = 0

    def failed(self, action: str, error: Exception) -> None:
        self.stats.redis_errors += 1
        self._failures += 1
        if self._failures < self.failures_to_trip:
            return  # one slow answer on a busy event loop is not an outage
        self._failures = 0
        self._down_until = self._clock() + self.retry_seconds
        log.warning(
            "%s: Redis %s failed (%r); %s for %.0fs",
            self.layer,
            action,
            error,
            self.consequence,
            self.retry_seconds,
        )
