"""A cache layer's stance towards a failing Redis: count the failure, then stay away.

After a failure, Redis is left alone for `retry_seconds`, so an outage costs one short
timeout per retry period rather than one per request (as the rate limiter does,
gateway/limits/rate.py). Only real failures are counted; calls skipped meanwhile are not.
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
    ) -> None:
        self.layer, self.consequence = layer, consequence  # for the log line
        self.stats, self.retry_seconds, self._clock = stats, retry_seconds, clock
        self._down_until = -math.inf

    @property
    def available(self) -> bool:
        return self._clock() >= self._down_until

    def failed(self, action: str, error: Exception) -> None:
        self.stats.redis_errors += 1
        self._down_until = self._clock() + self.retry_seconds
        log.warning(
            "%s: Redis %s failed (%r); %s for %.0fs",
            self.layer,
            action,
            error,
            self.consequence,
            self.retry_seconds,
        )
