"""A real gateway process (`python -m gateway serve`) over seeded real stores."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from datasources.mongo.bootstrap import bootstrap
from datasources.postgres.engine import asyncpg_dsn
from datasources.seed import SCALES, seed_stores
from gateway.embedded import free_port
from tests.conftest import _admin
from tests.stores import StoreUrls, unique_name, with_database


@dataclass(frozen=True)
class Seeded:
    postgres_url: str
    mongo_url: str
    mongo_db: str
    redis_url: str

    @property
    def cache_prefix(self) -> str:
        return f"hg:{self.mongo_db}"

    async def drop_entity_cache(self, prefix: str | None = None) -> None:
        """Empty the entity cache and the result cache (pages, counts) under `prefix`
        (the gateway's by default): a round-trip count is then that of a cold cache,
        whatever ran before."""
        client = Redis.from_url(self.redis_url)
        base = prefix or self.cache_prefix
        try:
            keys = [k async for k in client.scan_iter(match=f"{base}:[eq]:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("HIREGRAPH_")}
        return {
            **base,
            "HIREGRAPH_POSTGRES_URL": self.postgres_url,
            "HIREGRAPH_MONGO_URL": self.mongo_url,
            "HIREGRAPH_MONGO_DB": self.mongo_db,
            "HIREGRAPH_REDIS_URL": self.redis_url,
            # Rate-limit counters of this session only (the machine's Redis is shared).
            "HIREGRAPH_LIMITS__RATE_LIMIT_KEY_PREFIX": f"hiregraph:rate:{self.mongo_db}",
            # Entity-cache entries of this session's data only.
            "HIREGRAPH_CACHE__KEY_PREFIX": self.cache_prefix,
            # Tests count round trips: no cache timeouts because the machine is busy.
            "HIREGRAPH_CACHE__REDIS_TIMEOUT_SECONDS": "2",
            **extra,
        }


@pytest.fixture(scope="session")
async def seeded(
    stores: StoreUrls, pg_template: str, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[Seeded]:
    name = unique_name("hg_e2e")
    await _admin(stores.postgres, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    db = mongo_client[name]
    await bootstrap(db)
    url = with_database(stores.postgres, name)
    await seed_stores(asyncpg_dsn(url), db, SCALES["small"], seed=7)
    yield Seeded(url, stores.mongo, name, stores.redis)
    await mongo_client.drop_database(name)
    await _admin(stores.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_gateway(
    env: dict[str, str], data_dir: Path, *args: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`hiregraph serve` (plus `args`) on a free port, once healthy: the process and URL."""
    port = free_port()
    log = (data_dir / "gateway.log").open("wb")
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), *args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", *serve],
        env={**env, "HIREGRAPH_DATA_DIR": str(data_dir)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: `--workers` children die with it
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # `--workers N` on a busy machine starts slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((data_dir / "gateway.log").read_text())
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    _kill_group(proc)
    raise RuntimeError("gateway did not start: " + (data_dir / "gateway.log").read_text())


@contextmanager
def running_gateway(env: dict[str, str], data_dir: Path, *args: str) -> Iterator[str]:
    """`start_gateway` as a context manager: the gateway's URL, stopped on exit."""
    proc, base = start_gateway(env, data_dir, *args)
    try:
        yield base
    finally:
        stop_gateway(proc)


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Makes HTTP clients for a base URL (pools big enough for a load of a few hundred
    concurrent requests); all closed after the test."""
    made: list[httpx.AsyncClient] = []

    def make(base: str) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
        made.append(httpx.AsyncClient(base_url=base, timeout=30, limits=limits))
        return made[-1]

    yield make
    for client in made:
        await client.aclose()


def shared_env(seeded: Seeded, label: str, jwt_secret: str, **extra: str) -> dict[str, str]:
    """The env of a group of gateways and workers that share the stores and a broker
    namespace of their own (`label` + a random suffix, in HIREGRAPH_BROKER__NAMESPACE):
    tokens signed with `jwt_secret`, and no response cache unless `extra` turns it on."""
    shared = {
        "HIREGRAPH_AUTH__JWT_SECRET": jwt_secret,
        "HIREGRAPH_BROKER__NAMESPACE": f"{label}{uuid.uuid4().hex[:10]}",
        "HIREGRAPH_RESPONSE_CACHE__ENABLED": "false",
    }
    return seeded.env(**(shared | extra))


def start_worker(env: dict[str, str], data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """`hiregraph worker` (plus `args`, e.g. `--no-consumers`), logging to data_dir;
    stop it with `stop_gateway`."""
    with (data_dir / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker", *args],
            env={**env, "HIREGRAPH_DATA_DIR": str(data_dir)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _kill_group(proc: subprocess.Popen[bytes]) -> int:
    """SIGKILL the process and, for a gateway, its group (the uvicorn workers, which
    would outlive a killed supervisor)."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except ProcessLookupError:
        pass
    return proc.wait()


def stop_gateway(proc: subprocess.Popen[bytes]) -> int:
    proc.terminate()
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        return _kill_group(proc)


@pytest.fixture(scope="session")
def gateway(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, base = start_gateway(seeded.env(), tmp_path_factory.mktemp("gw"))
    yield base
    stop_gateway(proc)


@pytest.fixture
async def http(gateway: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        yield client


NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable, with the pinned graphql-ws reference client of tests/node
    installed from package-lock.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: the graphql-ws reference client cannot run")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR, check=True, timeout=300,
    )  # fmt: skip
    return node
