"""Domain errors. No HTTP or GraphQL here: the schema layer maps `code` to the wire."""

from __future__ import annotations


class HireGraphError(Exception):
    """Base of every expected failure; `code` is the stable, client-visible error code."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HireGraphError):
    code = "NOT_FOUND"


class Conflict(HireGraphError):
    code = "CONFLICT"


class Unauthenticated(HireGraphError):
    """Credentials were sent but are not acceptable (bad, expired, revoked, unknown).

    The message is a short reason for the caller; it never says which secret or key
    material was tried, so it cannot be used to probe the key store.
    """

    code = "UNAUTHENTICATED"


class Forbidden(HireGraphError):
    code = "FORBIDDEN"


class InvalidInput(HireGraphError):
    code = "BAD_USER_INPUT"


class UpstreamUnavailable(HireGraphError):
    """A store could not be reached or answered with a connection-level failure."""

    code = "UPSTREAM_UNAVAILABLE"

    def __init__(self, store: str, message: str) -> None:
        super().__init__(message)
        self.store = store


class UpstreamTimeout(UpstreamUnavailable):
    """A store did not answer within its call timeout (or the operation's deadline)."""

    code = "UPSTREAM_TIMEOUT"


class UpstreamBusy(UpstreamUnavailable):
    """Every connection to a store was in use for longer than the pool's wait limit:
    back-pressure, rather than queueing without bound."""

    code = "UPSTREAM_BUSY"


class LimitExceeded(HireGraphError):
    """A request over one of the gateway's limits, refused before any store is touched.

    `code` names the limit (see `schema.limits`); `extensions` carries what a client
    needs to adapt, e.g. `{"cost": 10201, "budget": 1000}`.
    """

    def __init__(self, code: str, message: str, extensions: dict[str, object] | None = None):
        super().__init__(message)
        self.code = code
        self.extensions: dict[str, object] = dict(extensions or {})


class InvalidTransition(HireGraphError):
    """An application status move the pipeline does not allow (`allowed`: the legal ones)."""

    code = "INVALID_TRANSITION"

    def __init__(self, message: str, current: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class AlreadyApplied(Conflict):
    """The candidate already applied to the job (`application_id`: theirs, when known)."""

    code = "ALREADY_APPLIED"

    def __init__(self, message: str, application_id: int | None = None) -> None:
        super().__init__(message)
        self.application_id = application_id


class SubscriptionOverflow(HireGraphError):
    """A subscriber fell behind: its bounded event queue filled up, so the subscription
    ended rather than buffering without limit."""

    code = "SLOW_CONSUMER"
