"""Which driver errors are store failures, which of those a read may retry, and the
domain error each one becomes (UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT, UPSTREAM_BUSY).

Connection-level failures (refused, reset, closed, no server) are retryable for
idempotent reads: the statement either never reached the store or its answer was
lost, and reading again changes nothing. Timeouts are store failures but are not
retried (a slow store gets slower when asked twice), and neither are query errors
(a bad statement fails the same way again) nor a busy pool (retrying adds load).
"""

from __future__ import annotations

import asyncpg
import pymongo.errors as mongo_errors
import redis.exceptions as redis_errors
import sqlalchemy.exc as sa_errors

from domain.errors import UpstreamBusy, UpstreamTimeout, UpstreamUnavailable

_TIMEOUTS: tuple[type[BaseException], ...] = (
    TimeoutError,
    asyncpg.QueryCanceledError,  # statement_timeout
    mongo_errors.NetworkTimeout,  # socketTimeoutMS
    mongo_errors.ExecutionTimeout,  # maxTimeMS
    redis_errors.TimeoutError,
)
_BUSY: tuple[type[BaseException], ...] = (
    UpstreamBusy,
    mongo_errors.WaitQueueTimeoutError,
    sa_errors.TimeoutError,  # QueuePool: no connection within pool_timeout
)
_CONNECTION: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # "connection is closed", "pool is closing"
    mongo_errors.AutoReconnect,
    redis_errors.ConnectionError,
)


def _sqlalchemy_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, sa_errors.DBAPIError) and (
        exc.connection_invalidated
        or isinstance(exc, sa_errors.OperationalError | sa_errors.InterfaceError)
    )


def is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, mongo_errors.ServerSelectionTimeoutError):
        return False  # no reachable server: unavailable, not slow
    return isinstance(exc, _TIMEOUTS)


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, _BUSY)


def is_connection_error(exc: BaseException) -> bool:
    if is_timeout(exc) or is_busy(exc):
        return False
    return isinstance(exc, _CONNECTION) or _sqlalchemy_connection_error(exc)


def is_store_failure(exc: BaseException) -> bool:
    """Counts against the store's circuit breaker."""
    if isinstance(exc, UpstreamUnavailable):
        return True
    return is_timeout(exc) or is_busy(exc) or is_connection_error(exc)


def is_retryable(exc: BaseException) -> bool:
    """A read may be sent again: the failure was at the connection, not the statement.
    Not after a server selection timeout: the driver already waited that long."""
    if isinstance(exc, mongo_errors.ServerSelectionTimeoutError):
        return False
    return is_connection_error(exc)


def to_upstream(store: str, exc: BaseException) -> UpstreamUnavailable:
    """The domain error a store failure becomes (an UpstreamUnavailable passes as is)."""
    if isinstance(exc, UpstreamUnavailable):
        return exc
    if is_busy(exc):
        return UpstreamBusy(store, f"{store}: no connection available in time (pool busy)")
    if is_timeout(exc):
        return UpstreamTimeout(store, f"{store} did not answer in time")
    return UpstreamUnavailable(store, f"{store} is unavailable ({type(exc).__name__})")
