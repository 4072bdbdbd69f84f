"""`Idempotency-Key` for mutations over HTTP: a retried request is answered, not re-run.

`GraphQLApp` enters `idempotent` (`Idempotency.guard`) right after the request guard admitted a
request. It applies to a POST whose single operation is a mutation and which carries
`Idempotency-Key` (a query's header is ignored; a batch with the header is refused):

- The key is 1..255 printable ASCII characters (BAD_IDEMPOTENCY_KEY, 400), and keys are
  per caller: the viewer's rate identity ("user:<sub>" or "key:<id>"), so an anonymous
  request cannot use one (IDEMPOTENCY_REQUIRES_AUTH, 400).
- The request hash is sha256 over the query text, operationName and variables (sorted
  keys), so a retry must send the same operation (after persisted queries are resolved:
  a hash-only retry matches a full one).
- The first request claims the key (`PgIdempotencyStore.begin`) and executes; its
  response is held until its last chunk, stored, then sent, so once a client has the
  response a retry replays it. A 2xx/4xx is stored (a 200 with GraphQL `errors` too:
  expected mutation failures are union members, and an unexpected resolver error has
  already run whatever it ran); an exception or a 5xx releases the key for a retry.
- A retry with the same hash gets the stored status, content type and exact bytes, plus
  `Idempotent-Replayed: true`, without executing; another hash gets
  IDEMPOTENCY_KEY_REUSED (422).
- A request whose key is still claimed by a running request gets
  IDEMPOTENCY_IN_PROGRESS (409) with `Retry-After: 1`, rather than waiting for it. A
  duplicate in flight is a client that timed out and retried, and is already able to
  retry; waiting would hold a worker and poll Postgres (there is nothing to wake it) for
  up to the execution timeout per duplicate, which a retry storm multiplies, and the
  first request may never finish (its process died) until the claim's lease runs out.
- The store unreachable: UPSTREAM_UNAVAILABLE (503). Executing without the guarantee
  the client asked for is what the header exists to prevent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType
from starlette.types import Message, Scope, Send

from datasources.postgres.idempotency import (
    Begun,
    InProgress,
    PgIdempotencyStore,
    Replay,
    Reused,
    StoredResponse,
)
from domain.errors import UpstreamUnavailable
from gateway.guard import Admission, _operation_type

log = logging.getLogger("hiregraph.idempotency")
HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
REPLAYED = (b"idempotent-replayed", b"true")
_NO_STORE = (b"cache-control", b"no-store")


@dataclass(frozen=True, slots=True)
class Guarded:
    """`answered`: the response was sent here (a replay or a refusal); otherwise execute
    with `send`."""

    answered: bool
    send: Send


@dataclass(frozen=True, slots=True)
class _Request:
    viewer: str
    key: str
    request_hash: str


class _Answered(Exception):
    """The request was answered before execution (a refusal)."""


def request_hash(query: str, operation_name: str | None, variables: Any) -> str:
    canonical = orjson.dumps([query, operation_name, variables], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def idempotent(
    scope: Scope, admission: Admission, send: Send
) -> AbstractAsyncContextManager[Guarded]:
    """`Idempotency.guard` of the app (`app.state.idempotency`); without one, a no-op."""
    idempotency: Idempotency | None = getattr(scope["app"].state, "idempotency", None)
    if idempotency is None or _header(scope) is None:  # most requests: no generator
        return nullcontext(Guarded(False, send))
    return idempotency.guard(scope, admission, send)


class Idempotency:
    """Built by the lifespan and kept in `app.state.idempotency` (absent: keys ignored)."""

    def __init__(self, store: PgIdempotencyStore) -> None:
        self.store = store

    @asynccontextmanager
    async def guard(self, scope: Scope, admission: Admission, send: Send) -> AsyncIterator[Guarded]:
        """Around the executors: replay or refuse (`answered`), or claim the key, execute
        with the capturing `send`, and store (or release) the response on the way out."""
        try:
            request = await self._request(scope, admission, send)
        except _Answered:
            yield Guarded(True, send)
            return
        if request is None:
            yield Guarded(False, send)
            return
        try:
            outcome = await self.store.begin(request.viewer, request.key, request.request_hash)
        except UpstreamUnavailable as error:
            await _refuse(send, 503, error.code, error.message)
            yield Guarded(True, send)
            return
        if not isinstance(outcome, Begun):
            await _answer(send, outcome)
            yield Guarded(True, send)
            return
        capture = _Capture(send)
        try:
            yield Guarded(False, capture.send)
        except BaseException:
            await self._abandon(request, outcome)
            raise
        await self._finish(request, outcome, capture)

    async def _request(self, scope: Scope, admission: Admission, send: Send) -> _Request | None:
        """The key, caller and hash of an idempotent request; None when the header does
        not apply; `_Answered` after sending a refusal."""
        raw = _header(scope)
        if raw is None:
            return None
        payload = admission.payload
        if isinstance(payload, list):
            await _refuse(send, 400, "IDEMPOTENCY_BATCH_UNSUPPORTED",
                          "Idempotency-Key cannot be used with a batched request.")  # fmt: skip
            raise _Answered
        if not isinstance(payload, dict) or not isinstance(query := payload.get("query"), str):
            return None  # not GraphQL: Strawberry's view reports it without executing
        name = payload.get("operationName")
        if _operation_type(query, name) is not OperationType.MUTATION:
            return None
        key = _valid_key(raw)
        if key is None:
            message = "Idempotency-Key must be 1 to 255 printable ASCII characters."
            await _refuse(send, 400, "BAD_IDEMPOTENCY_KEY", message)
            raise _Answered
        viewer = admission.viewer.rate_identity
        if viewer is None:
            message = "Idempotency-Key needs an authenticated caller (keys are per caller)."
            await _refuse(send, 400, "IDEMPOTENCY_REQUIRES_AUTH", message)
            raise _Answered
        return _Request(viewer, key, request_hash(query, name, payload.get("variables")))

    async def _finish(self, request: _Request, claim: Begun, capture: _Capture) -> None:
        """Store a 2xx/4xx (or release the key after a 5xx), then send the response."""
        response = capture.response()
        if response is None or response.status >= 500:
            await self._abandon(request, claim)
        else:
            try:
                stored = await self.store.complete(request.viewer, request.key, claim, response)
            except UpstreamUnavailable:
                # The mutation ran: the client still gets its answer. The claim stays
                # in_progress until its lease ends (409 to retries until then).
                log.exception("could not store the response of idempotency key %r", request.key)
            else:
                if not stored:
                    log.warning("idempotency key %r outlived its lease", request.key)
        await capture.flush()

    async def _abandon(self, request: _Request, claim: Begun) -> None:
        try:
            await self.store.abandon(request.viewer, request.key, claim)
        except UpstreamUnavailable:
            log.exception("could not release idempotency key %r", request.key)


class _Capture:
    """A send that holds the response until its last body chunk."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.complete = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        else:
            await self._send(message)

    def response(self) -> StoredResponse | None:
        if self.start is None or not self.complete:
            return None
        content_type = None
        for name, value in self.start.get("headers", []):
            if bytes(name).lower() == b"content-type":
                content_type = bytes(value).decode("latin-1")
        return StoredResponse(self.start["status"], b"".join(self.chunks), content_type)

    async def flush(self) -> None:
        if self.start is None:
            return
        await self._send(self.start)
        await self._send(
            {"type": "http.response.body", "body": b"".join(self.chunks), "more_body": False}
        )


def _header(scope: Scope) -> bytes | None:
    """The raw header value; two `Idempotency-Key` headers are as bad as a bad one."""
    found = [bytes(value) for name, value in scope["headers"] if name == HEADER]
    if not found:
        return None
    return found[0] if len(found) == 1 else b""


def _valid_key(raw: bytes) -> str | None:
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or any(not 0x20 <= b <= 0x7E for b in raw):
        return None
    return raw.decode("ascii")


async def _answer(send: Send, outcome: Replay | Reused | InProgress) -> None:
    if isinstance(outcome, Reused):
        await _refuse(send, 422, "IDEMPOTENCY_KEY_REUSED",
                      "This Idempotency-Key was used for a different request.")  # fmt: skip
    elif isinstance(outcome, InProgress):
        await _refuse(send, 409, "IDEMPOTENCY_IN_PROGRESS",
                      "A request with this Idempotency-Key is still executing; retry shortly.",
                      ((b"retry-after", b"1"),))  # fmt: skip
    else:
        stored = outcome.response
        headers = [(b"content-length", b"%d" % len(stored.body)), REPLAYED, _NO_STORE]
        if stored.content_type is not None:
            headers.insert(0, (b"content-type", stored.content_type.encode("latin-1")))
        await send({"type": "http.response.start", "status": stored.status, "headers": headers})
        await send({"type": "http.response.body", "body": stored.body})


async def _refuse(
    send: Send, status: int, code: str, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(extra)})
    await send({"type": "http.response.body", "body": body})


__all__ = ["Guarded", "Idempotency", "idempotent", "request_hash"]
