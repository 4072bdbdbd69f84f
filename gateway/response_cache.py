"""The whole-response cache, between the request guard and the executors.

`GraphQLApp` calls `ResponseCache.answer` after the guard admitted a request, so
authentication, limits and the rate limit apply to hits as to anything else. A hit is
sent straight from Redis: no graphql-core, no Strawberry, no store; its cost is an LRU
lookup of the document's `CachePolicy`, one SHA-256 and one Redis round trip.

The key (`datasources.cache.responses`) is `sha256(printed document, operation name,
variables as sorted JSON, the viewer's cache scope)` plus the versions of every entity
type the operation touches, so `Invalidator.entities_changed` makes old entries
unreachable. The entry is the response's exact bytes and its ETag; its TTL is the
operation's max-age (`schema.cache_hints`). Only a 200 response without `errors` to a
query is stored. Responses carry `Cache-Control` (`public` for the PUBLIC scope,
`private` otherwise, or `no-store`), an `ETag`, and a request whose `If-None-Match`
matches gets `304` with no body.

Cache scope (`cache_scope`): the authorization rules (`domain.policy`) read only the
role, the recruiter's company and the candidate's profile id, so those, and nothing
coarser, partition the cache: PUBLIC is shared, RECRUITER per company, CANDIDATE per
candidate, ANALYST and ADMIN per role. An operation that selects a personal field is
cached per user (JWT subject or API key), or not at all for a viewer with neither.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import GraphQLSchema
from starlette.types import Message, Scope, Send

from datasources import observe
from datasources.cache.keys import CacheStats
from datasources.cache.responses import RedisResponseStore
from domain.viewer import Role, Viewer
from gateway.guard import Admission
from schema.cache_policy import CachePolicies, CachePolicy

NO_STORE = [(b"cache-control", b"no-store")]
_VARY = (b"vary", b"Authorization, X-API-Key")
_DROP = frozenset({b"cache-control", b"etag", b"content-length", b"content-type", b"vary"})


def cache_scope(viewer: Viewer, private: bool) -> str | None:
    """Which viewers may share a cached response; None: this one may not be cached."""
    role = viewer.role
    if role is Role.PUBLIC:
        base = "public"
    elif role is Role.RECRUITER:
        base = f"company:{viewer.company_id}"
    elif role is Role.CANDIDATE:
        base = f"candidate:{viewer.candidate_id}"
    else:
        base = f"role:{role.value}"
    if not private:
        return base
    who = viewer.rate_identity  # "user:<sub>" or "key:<id>"
    return None if who is None else f"{base}|{who}"


def etag_of(body: bytes) -> bytes:
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


class ResponseCache:
    """Built by the lifespan (or a test) and kept in `app.state.response_cache`.
    `store` None: no Redis, so nothing is stored, but the headers and 304s still work."""

    def __init__(
        self, schema: GraphQLSchema, store: RedisResponseStore | None, stats: CacheStats
    ) -> None:
        self.policies = CachePolicies(schema)
        self.store = store
        self.stats = stats

    async def answer(self, scope: Scope, admission: Admission, send: Send) -> tuple[bool, Send]:
        """(True, _) when answered from the cache (a hit or a 304); otherwise the send
        the executor must use, which adds the cache headers and stores the response."""
        request = _operation(scope, admission)
        if request is None:
            return False, send  # not GraphQL, a batch, or GraphiQL: not ours to describe
        query, name, variables = request
        policy = self.policies.get(query, name)
        who = cache_scope(admission.viewer, policy.private)
        if not policy.cacheable or who is None:
            return False, _adding(send, NO_STORE)
        try:
            canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # e.g. an integer beyond 64 bits
            return False, _adding(send, NO_STORE)
        stem = hashlib.sha256(
            b"\0".join((policy.digest.encode(), (name or "").encode(), canonical, who.encode()))
        ).hexdigest()
        found = None if self.store is None else await self.store.lookup(stem, policy.types)
        public = who == "public"
        if found is not None and found.value is not None:
            self.stats.hits += 1
            observe.sink.cache("responses", 1, 0)
            etag, _, body = found.value.partition(b"\n")
            control = _control(public, max(1, found.ttl))
            await _respond(send, scope, etag, control, body)
            return True, send
        if found is not None:
            self.stats.misses += 1
            observe.sink.cache("responses", 0, 1)
        key = None if found is None else found.key
        return False, self._capturing(send, scope, policy, public, key)

    def _capturing(
        self, send: Send, scope: Scope, policy: CachePolicy, public: bool, key: str | None
    ) -> Send:
        """A send that holds the executor's response until its last chunk, then sends it
        with the cache headers (or a 304) and stores it when it may be."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capturing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            if start.get("status") != 200 or not _storable(body):
                headers = [*start.get("headers", []), *NO_STORE]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            etag = etag_of(body)
            await _respond(send, scope, etag, _control(public, policy.max_age), body, start)
            if key is not None and self.store is not None:
                await self.store.store(key, etag + b"\n" + body, policy.max_age)

        return capturing


def _control(public: bool, max_age: int) -> bytes:
    return f"{'public' if public else 'private'}, max-age={max_age}".encode()


async def _respond(
    send: Send,
    scope: Scope,
    etag: bytes,
    control: bytes,
    body: bytes,
    start: Message | None = None,
) -> None:
    """A cacheable 200 (the executor's own headers kept, when it ran) or a 304."""
    kept = [(k, v) for k, v in (start or {}).get("headers", []) if k.lower() not in _DROP]
    cached = [(b"cache-control", control), (b"etag", etag), _VARY]
    if _matches(scope, etag):
        await send({"type": "http.response.start", "status": 304, "headers": kept + cached})
        await send({"type": "http.response.body", "body": b""})
        return
    content = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": kept + content + cached})
    await send({"type": "http.response.body", "body": body})


def _matches(scope: Scope, etag: bytes) -> bool:
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            tags = [t.strip().removeprefix(b"W/") for t in bytes(value).split(b",")]
            if etag in tags or b"*" in tags:
                return True
    return False


def _storable(body: bytes) -> bool:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(decoded, dict) and "errors" not in decoded and "data" in decoded


def _operation(scope: Scope, admission: Admission) -> tuple[str, str | None, Any] | None:
    """(query, operationName, variables) of a single GraphQL operation, or None."""
    method = scope["method"]
    if method == "POST":
        if _content_type(scope) != b"application/json":
            return None
        payload = admission.payload
        if not isinstance(payload, dict):
            return None
        query, name, variables = (
            payload.get("query"), payload.get("operationName"), payload.get("variables")
        )  # fmt: skip
    elif method == "GET":
        text = scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(text, keep_blank_values=True))
        query, name, variables = params.get("query"), params.get("operationName"), None
        if "variables" in params:
            try:
                variables = orjson.loads(params["variables"])
            except orjson.JSONDecodeError:
                return None
    else:
        return None
    if not isinstance(query, str) or not isinstance(name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return query, name, variables


def _content_type(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


def _adding(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *headers]}
        await send(message)

    return sending
