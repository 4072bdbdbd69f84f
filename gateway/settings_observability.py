"""Settings section for observability (gateway.observability). Env:
HIREGRAPH_OBSERVABILITY__<NAME>. The OTLP exporter itself reads the standard OTEL_*
variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ObservabilitySettings(BaseModel):
    # Prometheus metrics at /metrics; off, the request path records nothing.
    metrics_enabled: bool = True
    # OpenTelemetry spans exported over OTLP; off (the default) nothing is instrumented.
    tracing_enabled: bool = False
    # One JSON log line per GraphQL request over HTTP (`graphql_request`).
    access_log: bool = True
    # Operations slower than this also log `slow_operation` (warning) with the document hash.
    slow_operation_ms: float = Field(1000.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Distinct operation names kept as metric labels per process; later ones are `other`.
    operation_name_cap: int = Field(200, ge=1, le=10_000)
    # `hiregraph worker` serves its metrics (outbox lag, relay errors, store calls) on
    # this port at /metrics, on HIREGRAPH_HOST; 0: not served.
    worker_metrics_port: int = Field(9465, ge=0, le=65535)
