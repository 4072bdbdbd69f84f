"""The one factory for every Redis client: a single server, Sentinel, or Cluster, by URL.

- `redis://`, `rediss://`, `unix://`: redis-py's own `Redis.from_url`.
- `redis+sentinel://[[user]:password@]host:port[,host:port...]/service_name[/db]`: the
  master of `service_name`, found through the Sentinels (and found again after a
  failover: redis-py's `SentinelConnectionPool` asks the Sentinels on reconnect). The
  password is the master's; the Sentinels are asked without one.
- `redis+cluster://[[user]:password@]host:port[,host:port...]`: a Redis Cluster client,
  started from any of the nodes given (it discovers the others).

Cluster and keys: a multi-key command or a Lua script must only touch keys of one hash
slot. The rate limiter's keys carry their identity as a hash tag; the caches (entity,
result, response, APQ, versions) touch many keys per call, so on a cluster their key
prefix is wrapped in a hash tag (`cluster_key_prefix`): every cache key lives in one
slot, on one shard (the cluster then gives the cache failover, not sharding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import unquote

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

Topology = Literal["single", "sentinel", "cluster"]
SENTINEL, CLUSTER = "redis+sentinel://", "redis+cluster://"
SINGLE = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class RedisTarget:
    """A parsed Redis URL: where the client connects and as whom."""

    topology: Topology
    url: str
    nodes: tuple[tuple[str, int], ...] = ()
    service: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None


def _nodes(hosts: str, url: str) -> tuple[tuple[str, int], ...]:
    nodes = []
    for part in hosts.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad Redis URL {_redact(url)!r}: {part!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    return tuple(nodes)


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, hosts = rest.rpartition("@")
    return f"{scheme}{sep}***@{hosts}" if at and credentials else url


def parse_redis_url(url: str) -> RedisTarget:
    """The target of a Redis URL; ValueError (saying what is wrong) for a bad one."""
    if url.startswith(SINGLE):
        return RedisTarget("single", url)
    if not url.startswith((SENTINEL, CLUSTER)):
        schemes = ", ".join((*SINGLE, SENTINEL, CLUSTER))
        raise ValueError(f"bad Redis URL {_redact(url)!r}: the scheme must be one of {schemes}")
    topology: Topology = "sentinel" if url.startswith(SENTINEL) else "cluster"
    rest = url.split("://", 1)[1].split("?", 1)[0]
    credentials, _, rest = rest.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    hosts, _, path = rest.partition("/")
    target = RedisTarget(
        topology, url, _nodes(hosts, url),
        username=unquote(username) or None, password=unquote(password) or None,
    )  # fmt: skip
    parts = [p for p in path.split("/") if p]
    if topology == "cluster":
        if parts:
            raise ValueError(f"bad Redis URL {_redact(url)!r}: a cluster has no service or db")
        return target
    if not parts or len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
        raise ValueError(
            f"bad Redis URL {_redact(url)!r}: expected "
            "redis+sentinel://[password@]host:port[,host:port]/service_name[/db]"
        )
    db = int(parts[1]) if len(parts) == 2 else 0
    return RedisTarget(
        topology, url, target.nodes, unquote(parts[0]), db, target.username, target.password
    )


class _OwnSentinelsPool(SentinelConnectionPool):
    """The master's pool, which also closes the Sentinel clients it asks (a client from
    `Sentinel.master_for` leaves them open when it is closed)."""

    async def aclose(self) -> None:
        await super().aclose()
        await self.sentinel_manager.aclose()


def create_redis(url: str, **options: Any) -> Redis:
    """A client for `url` with redis-py connection `options` (`max_connections`,
    `socket_timeout`, `socket_connect_timeout`, ...).

    A cluster client is a `RedisCluster`, not a `Redis`: it has the same commands,
    pipelines and scripts the gateway uses (each routed to its key's slot), so it is
    returned under the `Redis` type every adapter is written against."""
    target = parse_redis_url(url)
    if target.topology == "single":
        return Redis.from_url(url, **options)
    user, password = target.username, target.password
    if target.topology == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.nodes]
        cluster = RedisCluster(startup_nodes=nodes, username=user, password=password, **options)
        return cast(Redis, cluster)
    timeouts = ("socket_timeout", "socket_connect_timeout")
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.nodes), sentinel_kwargs={k: options[k] for k in timeouts if k in options}
    )
    assert target.service is not None  # parse_redis_url guarantees it
    master: Redis = sentinel.master_for(
        target.service, connection_pool_class=_OwnSentinelsPool,
        db=target.db, username=user, password=password, **options,
    )  # fmt: skip
    return master


def cluster_key_prefix(url: str, prefix: str) -> str:
    """`prefix` as a hash tag (`{prefix}`) when `url` is a cluster and the prefix has
    none yet, so that keys built on it share one slot; otherwise `prefix` unchanged."""
    if parse_redis_url(url).topology != "cluster" or ("{" in prefix and "}" in prefix):
        return prefix
    return f"{{{prefix}}}"
