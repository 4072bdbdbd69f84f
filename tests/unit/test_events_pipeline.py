"""Pure parts of the event pipeline: backoff, the relay loop, names, settings."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from datasources.events.broker import Names
from datasources.events.relay import Backoff, BatchResult, RelayOptions, run_relay
from gateway.settings import Settings


def test_backoff_doubles_up_to_the_cap_with_full_jitter() -> None:
    top = Backoff(0.2, 5.0, rng=lambda: 1.0)
    assert [round(top.next_delay(), 3) for _ in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    top.reset()
    assert top.next_delay() == pytest.approx(0.2)
    bottom = Backoff(0.2, 5.0, rng=lambda: 0.0)
    assert bottom.next_delay() == 0.0


async def test_the_relay_loop_backs_off_after_failures_and_polls_when_idle() -> None:
    results = iter([BatchResult(1, 0, True), BatchResult(1, 0, True), BatchResult(3, 3),
                    BatchResult(2, 2), BatchResult()])  # fmt: skip
    stop = asyncio.Event()
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def relay_once() -> BatchResult:
        calls.append(loop.time())
        result = next(results, None)
        if result is None:
            stop.set()
            return BatchResult()
        return result

    options = RelayOptions(batch_size=3, poll_interval=0.2, backoff_base=0.04, backoff_max=1)
    await asyncio.wait_for(run_relay("test", relay_once, options, stop), 5)
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert len(calls) == 6
    assert gaps[2] < 0.1, "a full batch is followed at once by the next"
    assert gaps[3] >= 0.19, "a partial batch waits for the poll interval"


async def test_an_exception_in_a_batch_does_not_end_the_relay() -> None:
    stop = asyncio.Event()
    calls = 0

    async def relay_once() -> BatchResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("postgres went away")
        stop.set()
        return BatchResult()

    options = RelayOptions(poll_interval=0.01, backoff_base=0.01, backoff_max=0.01)
    await asyncio.wait_for(run_relay("test", relay_once, options, stop), 5)
    assert calls == 2


def test_names_follow_the_namespace() -> None:
    names = Names("hiregraph")
    assert names.exchange == "hiregraph.events"
    assert names.key("JobPosted") == "hiregraph.JobPosted"
    assert names.key_filter({"JobPosted"}, "*") == "hiregraph.JobPosted"
    assert names.key_filter(None, "*") == "hiregraph.*"
    assert names.key_filter({"JobPosted", "JobClosed"}, ">") == "hiregraph.>"
    assert names.queue("cache-invalidation") == "hiregraph.cache-invalidation"
    assert Names("staging").nats_stream == "staging-events"


def test_the_broker_defaults_to_redis_streams_on_the_redis_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("HIREGRAPH_BROKER_URL", "HIREGRAPH_REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    assert Settings().event_broker_url is None
    monkeypatch.setenv("HIREGRAPH_REDIS_URL", "redis://cache:6379/0")
    assert Settings().event_broker_url == "redis://cache:6379/0"
    monkeypatch.setenv("HIREGRAPH_BROKER_URL", "amqp://mq/")
    monkeypatch.setenv("HIREGRAPH_BROKER__NAMESPACE", "staging")
    settings = Settings()
    assert settings.event_broker_url == "amqp://mq/"
    assert settings.broker.namespace == "staging"
    monkeypatch.setenv("HIREGRAPH_BROKER__NAMESPACE", "Has.Dots")
    with pytest.raises(ValueError, match="namespace"):
        Settings()
