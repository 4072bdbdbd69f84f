"""Request-level limits: settings, body size, batching, timeout, rate-limit headers."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from pydantic import ValidationError

from domain.errors import LimitExceeded
from domain.viewer import Role, Viewer
from gateway.limits import GatewayLimits, RateLimited
from gateway.limits.http import (
    check_body_size,
    error_body,
    error_status,
    execution_timeout,
    operations,
)
from gateway.limits.rate import Decision, rate_identity, rate_limit_for
from gateway.settings import LimitSettings, Settings
from schema import build_schema


def test_limit_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = LimitSettings()
    assert (limits.max_depth, limits.max_aliases, limits.max_tokens) == (10, 30, 5000)
    assert (limits.batching_enabled, limits.max_batch_operations) == (False, 5)
    assert limits.max_body_bytes == 1 << 20
    assert limits.cost_budgets[Role.PUBLIC] == 1000
    monkeypatch.setenv("HIREGRAPH_LIMITS__MAX_DEPTH", "12")
    rates = {role.value: "1/second" for role in Role} | {"PUBLIC": "10/second"}
    monkeypatch.setenv("HIREGRAPH_LIMITS__RATE_LIMITS", json.dumps(rates))
    settings = Settings()
    assert settings.limits.max_depth == 12
    assert settings.limits.rate_limits[Role.PUBLIC] == "10/second"


def test_limit_settings_refuse_bad_rate_limits_and_missing_roles() -> None:
    with pytest.raises(ValidationError):
        LimitSettings(rate_limits={r: "5000 a minute" for r in Role})
    with pytest.raises(ValidationError, match="missing roles"):
        LimitSettings(cost_budgets={Role.PUBLIC: 10})


def test_body_size_at_and_over() -> None:
    check_body_size(1024, 1024)
    with pytest.raises(LimitExceeded) as raised:
        check_body_size(1025, 1024)
    assert raised.value.code == "BODY_TOO_LARGE"
    assert error_status(raised.value) == 413


def test_batching_off_refuses_arrays_and_on_counts_them() -> None:
    one = {"query": "{ __typename }"}
    assert operations(one, batching_enabled=False, max_operations=5) == [one]
    with pytest.raises(LimitExceeded) as raised:
        operations([one], batching_enabled=False, max_operations=5)
    assert raised.value.code == "BATCHING_DISABLED"
    assert operations([one] * 5, batching_enabled=True, max_operations=5) == [one] * 5
    with pytest.raises(LimitExceeded) as raised:
        operations([one] * 6, batching_enabled=True, max_operations=5)
    assert raised.value.code == "BATCH_LIMIT"
    assert error_body(raised.value) == {"errors": [{
        "message": "A batch may hold at most 5 operations, got 6.",
        "extensions": {"code": "BATCH_LIMIT", "limit": 5, "actual": 6}}]}  # fmt: skip


async def test_execution_timeout() -> None:
    async with execution_timeout(1):
        await asyncio.sleep(0)
    with pytest.raises(LimitExceeded) as raised:
        async with execution_timeout(0.01):
            await asyncio.sleep(1)
    assert raised.value.code == "TIMEOUT"
    assert error_status(raised.value) == 504
    with pytest.raises(TimeoutError):  # the work's own timeout is not ours
        async with execution_timeout(1):
            raise TimeoutError


def test_rate_limit_headers() -> None:
    allowed = Decision(True, limit=100, remaining=60, reset_after=12.2, window=60)
    assert allowed.headers() == {"RateLimit-Limit": "100", "RateLimit-Remaining": "60",
        "RateLimit-Reset": "13", "RateLimit-Policy": "100;w=60"}  # fmt: skip
    refused = Decision(False, limit=100, remaining=10, reset_after=0.2, window=60)
    assert refused.headers()["Retry-After"] == "1"
    error = RateLimited(refused)
    assert (error.code, error_status(error)) == ("RATE_LIMITED", 429)
    assert error.headers["Retry-After"] == "1"


def test_rate_identity_and_limit() -> None:
    limits = LimitSettings().rate_limits
    assert rate_identity(Viewer(), "10.0.0.1") == "ip:10.0.0.1"
    assert rate_identity(Viewer(user_id="u1"), "10.0.0.1") == "user:u1"
    key = Viewer(role=Role.RECRUITER, api_key_id="k1", user_id="u1", rate_limit="5000/minute")
    assert rate_identity(key, "10.0.0.1") == "key:k1"
    assert rate_limit_for(key, limits) == "5000/minute"
    assert rate_limit_for(Viewer(), limits) == "20000/minute"


async def test_admit_spends_the_cost_and_refuses_over_the_rate() -> None:
    settings = LimitSettings(rate_limits={r: "100/minute" for r in Role})
    limits = GatewayLimits.create(settings, build_schema()._schema, redis_url=None)
    query = "query($n: Int) { jobs(first: $n) { edges { node { id } } } }"
    admitted = await limits.admit(query, None, {"n": 60}, Viewer(), "10.0.0.9")
    assert (admitted.cost, admitted.rate.remaining) == (61, 39)
    with pytest.raises(RateLimited):
        await limits.admit(query, None, {"n": 60}, Viewer(), "10.0.0.9")
    other_ip = await limits.admit(query, None, {"n": 60}, Viewer(), "10.0.0.10")
    assert other_ip.rate.allowed
    with pytest.raises(LimitExceeded) as raised:  # over a static limit: spends nothing
        await limits.admit("{ " + "a: __typename " * 31 + "}", None, None, Viewer(), "10.0.0.9")
    assert raised.value.code == "ALIAS_LIMIT"
    await limits.aclose()


async def test_execution_timeout_holds_when_the_work_swallows_its_cancellation() -> None:
    """Some drivers (redis-py 8.1) finish a command whose task was cancelled without
    raising: the deadline must still answer TIMEOUT, not the late result."""

    async def swallowing() -> str:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        return "late"

    with pytest.raises(LimitExceeded) as refused:
        async with execution_timeout(0.01):
            assert await swallowing() == "late"
    assert refused.value.code == "TIMEOUT"
