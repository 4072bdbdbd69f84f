"""The gate every GraphQL request over HTTP passes before either executor runs.

`RequestGuard.admit` reads the request once and, in order, refuses with a code:
1. CSRF_PREVENTION (400): when CSRF prevention is on (default in prod), a POST that is
   not `application/json` (form, multipart and `text/plain` bodies need no preflight,
   so a browser page could send them cross-site), or a GET without a header that forces
   a preflight (`X-HireGraph-CSRF`, `Apollo-Require-Preflight` or `Content-Type: application/json`);
2. BODY_TOO_LARGE (413): by Content-Length, then while reading;
3. UNAUTHENTICATED (401): credentials that are present but not acceptable;
4. BATCHING_DISABLED / BATCH_LIMIT (400);
   then automatic persisted queries (`gateway.apq`): PERSISTED_QUERY_NOT_FOUND (200),
   PERSISTED_QUERY_HASH_MISMATCH (400), PERSISTED_QUERY_NOT_SUPPORTED (200); an operation
   sent by hash is replaced by its text, and every rule below applies to that text;
5. per operation: METHOD_NOT_ALLOWED (405) for a mutation or subscription over GET;
   PERSISTED_QUERY_REQUIRED (403) for an API key that accepts registered documents only;
   INTROSPECTION_DISABLED (403) in prod for anyone but an admin; the static limits and
   the cost budget (200 with `errors`, as any validation error); RATE_LIMITED (429).

A persisted query's text is stored once its operation has passed every rule. An admitted
request that used APQ is rewritten for the executors as if the client had sent the text:
`Admission.body` and `Admission.payload` for a POST, `scope["query_string"]` for a GET.

Only then does an executor run, so a refused request never touches a store (the API-key
lookup and the rate limiter's counter aside). A request that is not GraphQL at all
(JSON the guard cannot decode, no `query`) goes on to Strawberry's view, which decodes
JSON the same way (orjson) and reports it without executing; a `query`, `operationName`
or `variables` of the wrong type is BAD_REQUEST (400) here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from domain.api_keys import document_hash
from domain.errors import HireGraphError, LimitExceeded
from domain.viewer import Viewer
from gateway.apq import HTTP_STATUS as APQ_STATUS
from gateway.apq import PersistedQueries, PersistedQueryError
from gateway.limits import GatewayLimits, check_body_size, operations
from gateway.limits.http import HTTP_STATUS
from gateway.observability import metrics
from gateway.observability.request import note_cost, note_request
from gateway.security.authenticate import Authenticator
from gateway.settings import Settings
from schema.operation import parse_document

PREFLIGHT_HEADERS = ("x-hiregraph-csrf", "apollo-require-preflight")
_STATUS = {
    "UNAUTHENTICATED": 401,
    "CSRF_PREVENTION": 400,
    "METHOD_NOT_ALLOWED": 405,
    "PERSISTED_QUERY_REQUIRED": 403,
    "INTROSPECTION_DISABLED": 403,
    "BAD_REQUEST": 400,
    "UPSTREAM_UNAVAILABLE": 503,  # e.g. the JWKS could not be fetched
    **HTTP_STATUS,
    **APQ_STATUS,
}


class Refused(Exception):
    """A request refused before execution: the response to send instead."""

    def __init__(self, error: HireGraphError, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        extensions = getattr(error, "extensions", {})
        self.status = _STATUS.get(error.code, 200)
        self.body = orjson.dumps(
            {
                "errors": [
                    {"message": error.message, "extensions": {"code": error.code, **extensions}}
                ]
            }
        )
        self.headers = dict(headers or {})
        if error.code == "UNAUTHENTICATED":
            self.headers["WWW-Authenticate"] = 'Bearer, ApiKey header="X-API-Key"'
        if error.code == "METHOD_NOT_ALLOWED":
            self.headers["Allow"] = "POST"


def _refuse(code: str, message: str) -> Refused:
    return Refused(LimitExceeded(code, message))


@dataclass(slots=True)
class Admission:
    """What the guard read and decided: the executors take it from here."""

    viewer: Viewer
    body: bytes
    # The decoded JSON body of a POST, or a GET's parameters in that form (None: not
    # read, not JSON, or not GraphQL); persisted queries resolved in both.
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # RateLimit-* for the response


class RequestGuard:
    """Built once by the lifespan (it needs the read pool and Redis)."""

    def __init__(
        self,
        settings: Settings,
        authenticator: Authenticator,
        limits: GatewayLimits,
        documents: Any,  # PgApiKeyRepository: is_trusted(key_id, sha256_hex)
        persisted: PersistedQueries | None = None,  # None: APQ disabled
    ) -> None:
        self.settings = settings
        self.csrf = settings.csrf_prevention_enabled
        self.max_body = settings.limits.max_body_bytes
        self.authenticator = authenticator
        self.limits = limits
        self.documents = documents
        self.persisted = persisted or PersistedQueries(None)
        self._trusted: set[tuple[str, str]] = set()  # registrations are never withdrawn

    async def admit(self, scope: Scope, receive: Receive) -> Admission:
        headers = Headers(scope=scope)
        method = scope["method"]
        if self.csrf:
            _check_csrf(method, headers)
        length = headers.get("content-length")
        if length is not None and length.isdigit():
            _size(int(length), self.max_body)
        body = await _read_body(receive, self.max_body)
        try:
            viewer = await self.authenticator.viewer_for(headers)
        except HireGraphError as error:  # UNAUTHENTICATED, or the JWKS store unavailable
            raise Refused(error) from None
        admission = Admission(viewer, body)
        payload = _payload(scope, method, body)
        if payload is None:
            return admission
        admission.payload = payload
        ops = self._operations(payload)
        registrations = await self._resolve_persisted(scope, admission)
        if registrations is not None:
            ops = self._operations(admission.payload)
        note_request(viewer, admission.payload)
        client = scope.get("client")
        ip = client[0] if client else None
        for op in ops:
            admission.headers = await self.check_operation(op, method, viewer, ip)
        for sha256_hex, query in registrations or ():
            await self.persisted.register(sha256_hex, query)
        return admission

    def _operations(self, payload: Any) -> list[dict[str, Any]]:
        try:
            return operations(
                payload,
                batching_enabled=self.settings.limits.batching_enabled,
                max_operations=self.settings.limits.max_batch_operations,
            )
        except LimitExceeded as error:
            raise Refused(error) from None

    async def _resolve_persisted(
        self, scope: Scope, admission: Admission
    ) -> list[tuple[str, str]] | None:
        """Replace operations sent by hash with their text, in the admission (and a GET's
        query string); the (hash, text) pairs to store once admitted. None: no APQ."""
        payload = admission.payload
        batch = payload if isinstance(payload, list) else [payload]
        rewritten, registrations, used = [], [], False
        for op in batch:
            try:
                resolved = await self.persisted.resolve(op) if isinstance(op, dict) else None
            except PersistedQueryError as error:
                raise Refused(error, error.headers) from None
            if resolved is None:
                rewritten.append(op)
                continue
            used = True
            rewritten.append(resolved.operation)
            if resolved.register is not None:
                registrations.append((resolved.register, resolved.operation["query"]))
        if not used:
            return None
        admission.payload = rewritten if isinstance(payload, list) else rewritten[0]
        if scope["method"] == "GET":
            scope["query_string"] = _query_string(scope, admission.payload)
        else:
            admission.body = orjson.dumps(admission.payload)
        return registrations

    async def check_operation(
        self, op: Mapping[str, Any], method: str, viewer: Viewer, ip: str | None
    ) -> dict[str, str]:
        """Every per-operation rule (5. above) for one operation of an HTTP request or
        of a WebSocket connection (`method` "WS"); returns its RateLimit-* headers."""
        query, name, variables = op.get("query"), op.get("operationName"), op.get("variables")
        if query is None:
            return {}  # Strawberry's view answers "no query" without executing anything
        if not (
            isinstance(query, str)
            and isinstance(name, str | None)
            and isinstance(variables, dict | None)
        ):
            # Refused here rather than left to the view: whatever the guard has not
            # checked must never reach an executor.
            raise _refuse(
                "BAD_REQUEST",
                "`query` and `operationName` must be strings and `variables` an object.",
            )
        if method == "GET" and _operation_type(query, name) not in (None, OperationType.QUERY):
            raise _refuse("METHOD_NOT_ALLOWED", "Mutations and subscriptions need a POST.")
        if viewer.trusted_documents_only:
            await self._check_trusted(viewer, query)
        if self.settings.env == "prod" and not viewer.is_admin and _introspects(query):
            raise _refuse("INTROSPECTION_DISABLED", "Introspection is not available to you.")
        try:
            admitted = await self.limits.admit(query, name, variables, viewer, ip)
        except LimitExceeded as error:
            if error.code == "RATE_LIMITED":
                metrics.rate_limited(viewer)
            raise Refused(error, getattr(error, "headers", None)) from None
        note_cost(admitted.cost)
        return admitted.rate.headers()

    async def _check_trusted(self, viewer: Viewer, query: str) -> None:
        key = (viewer.api_key_id or "", document_hash(query))
        if key in self._trusted:
            return
        if not await self.documents.is_trusted(*key):
            raise _refuse(
                "PERSISTED_QUERY_REQUIRED",
                "This API key accepts registered documents only; register this one with "
                "`hiregraph documents add`.",
            )
        self._trusted.add(key)


def _check_csrf(method: str, headers: Headers) -> None:
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if method == "POST" and content_type != "application/json":
        raise _refuse(
            "CSRF_PREVENTION",
            "POST bodies must be application/json (form, multipart and text/plain are refused).",
        )
    if method == "GET" and not (
        content_type == "application/json" or any(h in headers for h in PREFLIGHT_HEADERS)
    ):
        raise _refuse(
            "CSRF_PREVENTION",
            "GET requests need a header that forces a CORS preflight, such as "
            "`X-HireGraph-CSRF: 1` or `Apollo-Require-Preflight: true`.",
        )


def _size(size: int, limit: int) -> None:
    try:
        check_body_size(size, limit)
    except LimitExceeded as error:
        raise Refused(error) from None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        _size(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _payload(scope: Scope, method: str, body: bytes) -> Any:
    """The request's GraphQL payload (object or batch), or None when it cannot be read."""
    if method == "POST":
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
    if method != "GET":
        return None
    params = dict(_query_params(scope))
    if "query" not in params and "extensions" not in params:
        return None  # GraphiQL, or Strawberry's "no query" error
    payload: dict[str, Any] = {"query": params.get("query"),
                               "operationName": params.get("operationName")}  # fmt: skip
    for name in ("variables", "extensions"):
        if name in params:
            try:
                payload[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError:
                return None  # Strawberry's view reports it without executing
    payload.setdefault("variables", None)
    return payload


def _query_string(scope: Scope, op: Mapping[str, Any]) -> bytes:
    """A GET's query string for a resolved persisted query: the text as `query`, the
    remaining extensions (if any), every other parameter kept."""
    params = [(k, v) for k, v in _query_params(scope) if k not in ("query", "extensions")]
    params.append(("query", op["query"]))
    if op.get("extensions"):
        params.append(("extensions", orjson.dumps(op["extensions"]).decode()))
    return urlencode(params).encode("latin-1")


def _query_params(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


@lru_cache(maxsize=512)
def _document(query: str) -> DocumentNode | None:
    try:
        return parse_document(query)
    except GraphQLError:
        return None  # the limits (token limit) or Strawberry report it


def _operation_type(query: str, name: str | None) -> OperationType | None:
    document = _document(query)
    operation = None if document is None else get_operation_ast(document, name)
    return None if operation is None else operation.operation


@lru_cache(maxsize=512)
def _introspects(query: str) -> bool:
    """Whether any selection (fragments included) asks for `__schema` or `__type`."""
    document = _document(query)
    if document is None:
        return False
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    pending: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if hasattr(d, "selection_set")
    ]
    seen: set[str] = set()
    while pending:
        for node in pending.pop().selections:
            if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type"):
                return True
            name = getattr(getattr(node, "name", None), "value", None)
            if not isinstance(node, FieldNode) and name is not None:  # a fragment spread
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name])
            elif node.selection_set is not None:  # type: ignore[attr-defined]
                pending.append(node.selection_set)  # type: ignore[attr-defined]
    return False


__all__ = ["Admission", "Refused", "RequestGuard"]
