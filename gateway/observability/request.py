"""Per-request observation of GraphQL over HTTP: ids, outcome, metrics, span, log line.

`GraphQLApp` opens an `Observation` per HTTP request (`Observer.begin`), which:
- takes the client's `X-Request-Id` when well formed (1-128 of `A-Za-z0-9._:-`), else
  makes one; the trace id is the current span's (tracing on), else the W3C
  `traceparent` header's, else a new random one; both leave as `X-Request-Id` and
  `X-Trace-Id` response headers, and the trace id as `extensions.traceId` on every error;
- learns the viewer, operation and cost from the guard, and the outcome from whichever
  executor answered: `rejected` (refused by the guard: limits, cost, rate, auth, ...),
  `error` (errors and no data), `partial` (data and errors) or `ok`;
- on `finish`, records the metrics and writes the request's log line (and the
  slow-operation line above the threshold).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode

from datasources import observe, roundtrips
from domain.viewer import Viewer
from gateway.observability import logs, metrics, tracing
from gateway.settings_observability import ObservabilitySettings
from schema.operation import parse_document

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_SEVERITY = {"ok": 0, "partial": 1, "error": 2, "rejected": 3}

_NO_SPAN: AbstractContextManager[None] = nullcontext()
_current: ContextVar[Observation | None] = ContextVar("hiregraph_observation", default=None)


@dataclass(slots=True)
class Observation:
    request_id: str
    trace_id: str
    started: float
    operation: str = "unknown"
    operation_type: str = "unknown"
    outcome: str = "ok"
    codes: list[str] = field(default_factory=list)
    cost: int | None = None
    viewer_kind: str = "public"
    document_hash: str | None = None
    status: int = 200
    observer: Observer | None = None

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-request-id", self.request_id.encode()),
                (b"x-trace-id", self.trace_id.encode())]  # fmt: skip

    def note(self, outcome: str) -> None:
        if _SEVERITY[outcome] > _SEVERITY[self.outcome]:
            self.outcome = outcome

    def errors(self, data: Any, errors: Any) -> None:
        """Classify an executor's result and stamp `traceId` on its errors (in place)."""
        if not errors:
            return
        for error in errors:
            if isinstance(error, dict):
                extensions = error.setdefault("extensions", {})
                if isinstance(extensions, dict):
                    extensions["traceId"] = self.trace_id
                    self.codes.append(str(extensions.get("code", "UNKNOWN"))[:64])
        self.note("error" if data is None else "partial")


class Observer:
    """One per app: settings, the operation-name folding, the send wrapper."""

    def __init__(self, settings: ObservabilitySettings) -> None:
        self.settings = settings
        self.names = metrics.OperationNames(settings.operation_name_cap)
        self.slow_seconds = settings.slow_operation_ms / 1000

    def begin(self, headers: list[tuple[bytes, bytes]]) -> Observation:
        request_id = trace_id = None
        for name, value in headers:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                request_id = text if _REQUEST_ID.match(text) else None
            elif name == b"traceparent":
                match = _TRACEPARENT.match(value.decode("latin-1"))
                trace_id = match.group(1) if match else None
        trace_id = tracing.current_trace_id() or trace_id or secrets.token_hex(16)
        observation = Observation(
            request_id or secrets.token_hex(16), trace_id, time.perf_counter(), observer=self
        )
        _current.set(observation)
        roundtrips.begin()  # a request no executor runs (refused, cached) counts none
        return observation

    def admitted(self, observation: Observation, viewer: Viewer, payload: Any) -> None:
        observation.viewer_kind = metrics.viewer_kind(viewer)
        if isinstance(payload, list):
            observation.operation = observation.operation_type = "batch"
            return
        if not isinstance(payload, Mapping) or not isinstance(query := payload.get("query"), str):
            return
        name = payload.get("operationName")
        operation = _operation(query, name if isinstance(name, str) else None)
        if operation is not None:
            observation.operation_type = operation.operation.value
            if name is None and operation.name is not None:
                name = operation.name.value
        observation.operation = self.names.fold(name if isinstance(name, str) else None)
        observation.document_hash = hashlib.sha256(query.encode()).hexdigest()

    def span(self, observation: Observation) -> AbstractContextManager[None]:
        """The GraphQL operation's span (tracing on), else a shared no-op."""
        return _NO_SPAN if observe.tracer is None else self._span(observation)

    @contextmanager
    def _span(self, observation: Observation) -> Iterator[None]:
        tracer = observe.tracer
        name = f"{observation.operation_type} {observation.operation}"
        attributes = {"graphql.operation.name": observation.operation,
                      "graphql.operation.type": observation.operation_type,
                      "graphql.document.hash": observation.document_hash or ""}  # fmt: skip
        with tracer.start_as_current_span(name, attributes=attributes) as span:
            yield
            span.set_attribute("hiregraph.outcome", observation.outcome)

    def finish(self, observation: Observation) -> None:
        seconds = time.perf_counter() - observation.started
        trips = roundtrips.current()
        _current.set(None)
        if self.settings.metrics_enabled:
            _record(observation, seconds, trips)
        slow = seconds >= self.slow_seconds
        if not (self.settings.access_log or slow):
            return
        fields = {
            "request_id": observation.request_id,
            "trace_id": observation.trace_id,
            "viewer_kind": observation.viewer_kind,
            "operation": observation.operation,
            "operation_type": observation.operation_type,
            "outcome": observation.outcome,
            "status": observation.status,
            "duration_ms": round(seconds * 1000, 3),
            "cost": observation.cost,
            "round_trips": None if trips is None else trips.as_dict(),
            "error_codes": observation.codes,
        }
        log = logs.logger()
        if self.settings.access_log:
            log.info("graphql_request", **fields)
        if slow:
            log.warning("slow_operation", document_hash=observation.document_hash, **fields)


def _record(observation: Observation, seconds: float, trips: roundtrips.RoundTrips | None) -> None:
    operation = observation.operation
    labels = (operation, observation.operation_type, observation.outcome)
    metrics.requests(*labels).inc()
    metrics.duration(*labels).observe(seconds)
    for code in observation.codes:
        metrics.errors(operation, code).inc()
    if observation.cost is not None:
        metrics.cost(operation).observe(observation.cost)
    if trips is not None and observation.outcome != "rejected":
        metrics.round_trips(operation, "postgres").observe(trips.postgres)
        metrics.round_trips(operation, "mongo").observe(trips.mongo)
        metrics.round_trips(operation, "redis").observe(trips.redis)


def current() -> Observation | None:
    return _current.get()


def note_request(viewer: Viewer, payload: Any) -> None:
    """The guard's authenticated viewer and decoded payload (persisted queries resolved),
    known before any refusal that follows (limits, cost, rate)."""
    observation = _current.get()
    if observation is not None and observation.observer is not None:
        observation.observer.admitted(observation, viewer, payload)


def note_cost(cost: int) -> None:
    """The guard's computed cost of the admitted operation (a batch: their sum)."""
    observation = _current.get()
    if observation is not None:
        observation.cost = cost + (observation.cost or 0)


def _operation(query: str, name: str | None) -> OperationDefinitionNode | None:
    try:
        document = parse_document(query)
    except Exception:  # a syntax error: the executor reports it
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)
