"""Settings from the environment, and the process tuning the lifespan applies."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.lifespan import tune_gc
from gateway.settings import CacheSettings, Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("POSTGRES_URL", "MONGO_URL", "REDIS_URL", "ENV", "DATA_DIR", "MONGO_DB"):
        monkeypatch.delenv(f"HIREGRAPH_{name}", raising=False)
    return monkeypatch


def test_defaults_mean_embedded_stores(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.env == "dev"
    assert settings.embedded_stores == ("postgres", "mongo", "redis")
    assert settings.data_dir == Path(".hiregraph")
    assert settings.graphiql
    assert settings.round_trips_in_responses


def test_env_prefix_and_nested_sections(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HIREGRAPH_POSTGRES_URL", "postgresql+asyncpg://u@db/x")
    clean_env.setenv("HIREGRAPH_POOLS__POSTGRES_POOL_SIZE", "33")
    clean_env.setenv("HIREGRAPH_MONGO_DB", "other")
    settings = Settings()
    assert settings.embedded_stores == ("mongo", "redis")
    assert settings.pools.postgres_pool_size == 33
    assert settings.mongo_db == "other"


def test_prod_refuses_any_embedded_store(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HIREGRAPH_ENV", "prod")
    clean_env.setenv("HIREGRAPH_POSTGRES_URL", "postgresql+asyncpg://u@db/x")
    clean_env.setenv("HIREGRAPH_MONGO_URL", "mongodb://m")
    with pytest.raises(ValidationError, match="HIREGRAPH_REDIS_URL"):
        Settings()
    clean_env.setenv("HIREGRAPH_REDIS_URL", "redis://r")
    prod = Settings()
    assert not prod.graphiql
    assert not prod.round_trips_in_responses


@pytest.mark.parametrize(
    ("name", "value"),
    [("HIREGRAPH_ENV", "staging"), ("HIREGRAPH_POOLS__POSTGRES_POOL_SIZE", "0"),
     ("HIREGRAPH_GC_GEN0_THRESHOLD", "-1"), ("HIREGRAPH_PORT", "70000")],
)  # fmt: skip
def test_bad_values_are_refused(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restore_gc")
def test_tune_gc_raises_the_young_threshold_and_zero_leaves_it() -> None:
    before = gc.get_threshold()
    tune_gc(0)
    assert gc.get_threshold() == before
    tune_gc(12_345)
    assert gc.get_threshold() == (12_345, before[1], before[2])
    assert gc.get_freeze_count() > 0


@pytest.fixture
def auth_env(clean_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("JWT_SECRET", "JWT_ALGORITHMS", "JWKS_FILE", "JWKS_URL", "AUDIENCE", "ISSUER"):
        clean_env.delenv(f"HIREGRAPH_AUTH__{name}", raising=False)
    return clean_env


def test_auth_defaults_leave_jwt_off(auth_env: pytest.MonkeyPatch) -> None:
    auth = Settings().auth
    assert not auth.jwt_enabled
    assert auth.jwt_algorithms == ("HS256",)
    assert auth.leeway_seconds == 30
    assert auth.api_key_cache_seconds == 5


def test_auth_from_nested_env(auth_env: pytest.MonkeyPatch) -> None:
    auth_env.setenv("HIREGRAPH_AUTH__JWT_ALGORITHMS", '["RS256", "ES256"]')
    auth_env.setenv("HIREGRAPH_AUTH__JWKS_URL", "http://127.0.0.1:9/jwks.json")
    auth_env.setenv("HIREGRAPH_AUTH__AUDIENCE", "hiregraph")
    auth = Settings().auth
    assert auth.jwt_enabled
    assert auth.jwt_algorithms == ("RS256", "ES256")
    assert auth.audience == "hiregraph"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_ALGORITHMS": '["none"]'}, "never include 'none'"),
        ({"JWT_ALGORITHMS": '["HS256", "NONE"]'}, "never include 'none'"),
        ({"JWT_ALGORITHMS": '["HS256", "RS256"]'}, "must not mix"),
        ({"JWT_ALGORITHMS": '["RS256"]'}, "need jwks_file or jwks_url"),
        ({"AUDIENCE": "hiregraph"}, "need HIREGRAPH_AUTH__JWT_SECRET"),
        ({"JWT_SECRET": "s" * 40, "JWKS_URL": "https://id/jwks"}, "jwt_algorithms are HS"),
        ({"JWT_ALGORITHMS": '["RS256"]', "JWKS_URL": "https://a", "JWKS_FILE": "/j"}, "not both"),
    ],
)
def test_bad_auth_settings_are_refused(
    auth_env: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        auth_env.setenv(f"HIREGRAPH_AUTH__{name}", value)
    with pytest.raises(ValidationError, match=message):
        Settings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_SECRET": "short-secret"}, "at least 32 bytes"),
        ({"JWT_ALGORITHMS": '["RS256"]', "JWKS_URL": "http://id/jwks"}, "must be https"),
    ],
)
def test_prod_refuses_weak_auth(
    auth_env: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, url in (
        ("ENV", "prod"),
        ("POSTGRES_URL", "p"),
        ("MONGO_URL", "m"),
        ("REDIS_URL", "redis://r"),
    ):
        auth_env.setenv(f"HIREGRAPH_{name}", url)
    for name, value in env.items():
        auth_env.setenv(f"HIREGRAPH_AUTH__{name}", value)
    with pytest.raises(ValidationError, match=message):
        Settings()
    auth_env.setenv("HIREGRAPH_AUTH__JWT_SECRET", "x" * 32)
    auth_env.delenv("HIREGRAPH_AUTH__JWKS_URL", raising=False)
    auth_env.delenv("HIREGRAPH_AUTH__JWT_ALGORITHMS", raising=False)
    assert Settings().auth.jwt_enabled


def test_cache_settings_know_the_cached_types() -> None:
    assert CacheSettings().ttl_for("Job") == 60
    assert CacheSettings().ttl_for("Application") == 0  # never cached
    with pytest.raises(ValueError, match="not cached types: Application"):
        CacheSettings(entity_ttl_seconds={"Application": 5})


def test_idempotency_settings(clean_env: pytest.MonkeyPatch) -> None:
    assert (Settings().idempotency.enabled, Settings().idempotency.ttl_hours) == (True, 24)
    clean_env.setenv("HIREGRAPH_IDEMPOTENCY__TTL_HOURS", "48")
    clean_env.setenv("HIREGRAPH_IDEMPOTENCY__ENABLED", "false")
    settings = Settings()
    assert (settings.idempotency.enabled, settings.idempotency.ttl_hours) == (False, 48)
    # A claim that could lapse while its request still runs would let a retry run too.
    clean_env.setenv("HIREGRAPH_IDEMPOTENCY__LEASE_SECONDS", "10")
    with pytest.raises(ValidationError, match="LEASE_SECONDS must exceed"):
        Settings()
    clean_env.setenv("HIREGRAPH_LIMITS__EXECUTION_TIMEOUT_SECONDS", "5")
    assert Settings().idempotency.lease_seconds == 10
