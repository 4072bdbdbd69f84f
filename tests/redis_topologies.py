"""Real Redis Sentinel and Cluster deployments for tests, from the `redis-server` binary:
a Sentinel group (a master, a replica and one Sentinel) and a three-master Cluster, each
on free ports under a temporary directory, stopped (SIGTERM, then SIGKILL) afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from gateway.embedded import free_port

SERVICE = "hgmaster"


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is not installed: the Sentinel/Cluster tests need it")
    return found


def _wait(port: int, deadline: float = 20) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis on port {port} did not start")


def _server(stack: ExitStack, workdir: Path, port: int, *args: str) -> int:
    """A `redis-server` (plus `args`) on `port`, stopped when `stack` closes."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "redis.log").open("wb")
    proc = subprocess.Popen(
        [redis_server(), *args, "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(workdir), "--save", "", "--appendonly", "no"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(stop)
    _wait(port)
    return port


@dataclass(frozen=True)
class SentinelGroup:
    master_port: int
    replica_port: int
    sentinel_port: int

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def master(self) -> tuple[str, int]:
        """Where the Sentinel says the master is now."""
        with Redis(port=self.sentinel_port) as sentinel:
            host, port = sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
        return host.decode(), int(port)


@contextmanager
def sentinel_group(tmp: Path) -> Iterator[SentinelGroup]:
    """A master, its replica (in sync) and a Sentinel that monitors them (quorum 1)."""
    with ExitStack() as stack:
        master = _server(stack, tmp / "master", free_port())
        replica = _server(
            stack, tmp / "replica", free_port(), "--replicaof", "127.0.0.1", str(master)
        )
        conf = tmp / "sentinel.conf"
        conf.write_text(
            f"sentinel monitor {SERVICE} 127.0.0.1 {master} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )
        sentinel = _server(stack, tmp / "sentinel", free_port(), str(conf), "--sentinel")
        group = SentinelGroup(master, replica, sentinel)
        until(lambda: _in_sync(replica) and _sentinel_knows_replica(sentinel), "replica")
        yield group


def _in_sync(port: int) -> bool:
    with Redis(port=port) as r:
        info = r.info("replication")
    return info.get("master_link_status") == "up"


def _sentinel_knows_replica(port: int) -> bool:
    with Redis(port=port) as r:
        replicas = r.execute_command("SENTINEL", "REPLICAS", SERVICE)
    return bool(replicas)


def until(ok: Callable[[], bool], what: str, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if ok():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for the {what}")


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is free too."""
    for _ in range(100):
        port = free_port()
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a cluster node")


@dataclass(frozen=True)
class Cluster:
    ports: tuple[int, ...]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports[:2])


@contextmanager
def redis_cluster(tmp: Path, masters: int = 3) -> Iterator[Cluster]:
    """`masters` cluster-enabled servers joined by `redis-cli --cluster create`."""
    with ExitStack() as stack:
        ports = []
        for n in range(masters):
            port = _cluster_port()
            ports.append(port)
            _server(stack, tmp / f"node{n}", port, "--cluster-enabled", "yes",
                    "--cluster-config-file", f"nodes-{port}.conf")  # fmt: skip
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        until(lambda: all(_cluster_ok(p) for p in ports), "cluster state ok")
        yield Cluster(tuple(ports))


def _cluster_ok(port: int) -> bool:
    with Redis(port=port) as r:
        info = r.execute_command("CLUSTER", "INFO").decode()
    return "cluster_state:ok" in info
