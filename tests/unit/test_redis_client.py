"""Redis URLs: the topologies the factory accepts, and the reasons it refuses others."""

from __future__ import annotations

from pathlib import Path

import pytest

from datasources.redis_client import RedisTarget, cluster_key_prefix, parse_redis_url
from gateway.settings import Settings, for_redis_topology


def test_sentinel_and_cluster_urls_are_parsed() -> None:
    assert parse_redis_url("redis+sentinel://:s3cret@a:26379,b:26380/mymaster/2") == RedisTarget(
        "sentinel", "redis+sentinel://:s3cret@a:26379,b:26380/mymaster/2",
        (("a", 26379), ("b", 26380)), "mymaster", 2, None, "s3cret",
    )  # fmt: skip
    target = parse_redis_url("redis+cluster://user:pw@10.0.0.1:7000,10.0.0.2:7001")
    assert (target.topology, target.nodes) == ("cluster", (("10.0.0.1", 7000), ("10.0.0.2", 7001)))
    assert (target.username, target.password) == ("user", "pw")
    for plain in ("redis://h:6379/0", "rediss://h:6380/1", "unix:///run/redis.sock"):
        assert parse_redis_url(plain).topology == "single"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis+sentinel://127.0.0.1:26379", "service_name"),
        ("redis+sentinel://127.0.0.1:26379/m/x", "service_name"),
        ("redis+sentinel://127.0.0.1/mymaster", "is not host:port"),
        ("redis+cluster://127.0.0.1:7000/0", "a cluster has no service or db"),
        ("memcached://127.0.0.1:11211", "the scheme must be one of"),
    ],
)
def test_bad_redis_urls_are_refused_with_the_reason(url: str, reason: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=reason):
        Settings(redis_url=url, data_dir=tmp_path)


def test_a_password_never_appears_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"\*\*\*@") as refused:
        parse_redis_url("redis+sentinel://:hunter2@127.0.0.1/m")
    assert "hunter2" not in str(refused.value)


def test_a_sentinel_or_cluster_redis_needs_its_own_broker_url(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HIREGRAPH_BROKER_URL"):
        Settings(redis_url="redis+cluster://127.0.0.1:7000", data_dir=tmp_path)
    Settings(redis_url="redis+cluster://127.0.0.1:7000", broker_url="amqp://guest:guest@h:5672/")


def test_on_a_cluster_the_cache_prefix_becomes_one_hash_tag() -> None:
    assert cluster_key_prefix("redis+cluster://h:7000", "hg") == "{hg}"
    assert cluster_key_prefix("redis+cluster://h:7000", "{hg}") == "{hg}"
    assert cluster_key_prefix("redis://h:6379/0", "hg") == "hg"
    settings = Settings(redis_url="redis+cluster://h:7000", broker_url="nats://h:4222")
    assert for_redis_topology(settings).cache.key_prefix == "{hg}"


@pytest.mark.parametrize("preference", ["primary", "secondaryPreferred", "nearest"])
def test_mongo_read_preferences_are_validated(preference: str) -> None:
    assert Settings(mongo_read_preference=preference).mongo_read_preference == preference  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="secondaryPreferred"):
        Settings(mongo_read_preference="secondary_preferred")  # type: ignore[arg-type]
