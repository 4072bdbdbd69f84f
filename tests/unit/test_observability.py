"""Observability's pure parts: name folding, redaction, store-operation labels, the
relay's error and lag reports, the dashboard's metric names."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import structlog

from datasources import observe
from datasources.events.relay import BatchResult, RelayOptions, run_relay
from gateway.observability import logs, metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "hiregraph.json"


class Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def store_call(self, store: str, operation: str, seconds: float, ok: bool) -> None:
        self.calls.append(("store", (store, operation, ok)))

    def cache(self, layer: str, hits: int, misses: int) -> None:
        self.calls.append(("cache", (layer, hits, misses)))

    def batch(self, loader: str, size: int) -> None:
        self.calls.append(("batch", (loader, size)))

    def outbox(self, store: str, lag_seconds: float) -> None:
        self.calls.append(("outbox", (store, round(lag_seconds))))

    def relay_error(self, store: str) -> None:
        self.calls.append(("relay_error", store))


def test_operation_names_fold_to_a_bounded_set() -> None:
    names = metrics.OperationNames(cap=2)
    assert names.fold(None) == "anonymous"
    assert names.fold("") == "anonymous"
    folded = [names.fold(n) for n in ("A", "B", "C", "A", "B")]
    assert folded == ["A", "B", "other", "A", "B"]
    assert metrics.OperationNames().fold("drop table; --") == "other"
    assert metrics.OperationNames().fold("x" * 101) == "other"


def test_sql_operations_are_verbs_never_text() -> None:
    assert observe.sql_operation("  select * from jobs where email = 'a@b.c'") == "SELECT"
    assert observe.sql_operation("INSERT INTO t VALUES (1)") == "INSERT"
    assert observe.sql_operation("VACUUM t") == "OTHER"
    assert observe.sql_operation("") == "OTHER"


def test_redaction_drops_secret_keys_and_masks_emails_and_tokens() -> None:
    buffer = io.StringIO()
    logs.configure("INFO", buffer)
    try:
        logs.logger().info(
            "something for jane@example.com with Bearer abc.def.ghi",
            authorization="Bearer abc.def.ghi",
            api_key="hgk_123",
            variables={"email": "jane@example.com"},
            operation="Jobs",
        )
        logs.logger().debug("below the level")
    finally:
        structlog.reset_defaults()
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1
    line = orjson.loads(lines[0])
    for secret in ("jane@example.com", "abc.def.ghi", "hgk_123"):
        assert secret not in lines[0]
    assert line["authorization"] == line["api_key"] == line["variables"] == "[redacted]"
    assert line["operation"] == "Jobs"
    assert line["level"] == "info"
    assert "[email]" in line["event"]


async def test_a_failed_relay_batch_is_counted_and_the_lag_reported() -> None:
    recording = Recording()
    observe.install(recording)
    stop = asyncio.Event()
    batches = 0

    async def relay_once() -> BatchResult:
        nonlocal batches
        batches += 1
        if batches == 1:
            raise RuntimeError("broker down")
        if batches == 2:
            return BatchResult(failed=True)
        stop.set()
        return BatchResult()

    try:
        options = RelayOptions(poll_interval=0.001, backoff_base=0.001, backoff_max=0.002)
        await run_relay("postgres", relay_once, options, stop)
        old = datetime.now(UTC) - timedelta(seconds=30)
        observe.outbox_lag("mongo", [{"occurred_at": old.replace(tzinfo=None)}])
        observe.outbox_lag("postgres", [])
    finally:
        observe.install(None)
    assert recording.calls == [
        ("relay_error", "postgres"),
        ("relay_error", "postgres"),
        ("outbox", ("mongo", 30)),
        ("outbox", ("postgres", 0)),
    ]


def test_the_dashboard_is_valid_and_charts_only_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = set()
    for metric in vars(metrics).values():
        name = getattr(metric, "_name", None)
        kind = getattr(metric, "_type", None)
        if isinstance(name, str) and name.startswith("hiregraph_"):
            if kind == "counter":
                exposed.add(f"{name}_total")
            elif kind == "histogram":
                exposed |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            else:
                exposed.add(name)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 12
    used = {word for e in exprs for word in _metric_names(e)}
    assert used
    assert used <= exposed, used - exposed
    # Every metric family the gateway exports has at least one panel.
    assert {_family(n) for n in exposed} == {_family(n) for n in used}


def _family(name: str) -> str:
    for suffix in ("_total", "_bucket", "_count", "_sum"):
        name = name.removesuffix(suffix)
    return name


def _metric_names(expr: str) -> set[str]:
    import re

    return set(re.findall(r"\bhiregraph_[a-z_]+", expr))
