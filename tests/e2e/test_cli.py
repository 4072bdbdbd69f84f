"""The `hiregraph` command: bad input gives one line, a code, no traceback, no data lost."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest

from datasources.postgres.engine import asyncpg_dsn
from gateway.embedded import free_port
from tests.e2e.conftest import Seeded, start_gateway, stop_gateway

pytestmark = pytest.mark.e2e


def hiregraph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    text = " ".join(lines)
    assert lines, result.stderr
    assert lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in text, text


def test_schema_command_prints_the_committed_sdl(repo_root: Path) -> None:
    result = hiregraph("schema")
    assert result.returncode == 0
    assert result.stdout == (repo_root / "schema.graphql").read_text()


def test_prod_refuses_embedded_stores(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIREGRAPH_")}
    result = hiregraph("migrate", env={**env, "HIREGRAPH_ENV": "prod"})
    assert_one_line_error(result, "refuses embedded", "HIREGRAPH_POSTGRES_URL")


def test_unreachable_store_is_named(seeded: Seeded, tmp_path: Path) -> None:
    dead = f"postgresql+asyncpg://hg:secret@127.0.0.1:{free_port()}/nope"
    env = seeded.env(HIREGRAPH_POSTGRES_URL=dead, HIREGRAPH_DATA_DIR=str(tmp_path))
    result = hiregraph("migrate", env=env)
    assert_one_line_error(result, "postgres at postgresql+asyncpg://hg:***@127.0.0.1")
    assert "secret" not in result.stderr


def test_port_in_use(seeded: Seeded, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = seeded.env(HIREGRAPH_DATA_DIR=str(tmp_path))
        result = hiregraph("serve", "--port", str(port), env=env)
    assert_one_line_error(result, f"127.0.0.1:{port}", "address already in use")


async def _counts(seeded: Seeded) -> tuple[int, int]:
    conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM jobs"),
            await conn.fetchval("SELECT count(*) FROM applications"),
        )
    finally:
        await conn.close()


async def test_seed_refuses_to_overwrite_and_deletes_nothing(
    seeded: Seeded, tmp_path: Path
) -> None:
    before = await _counts(seeded)
    env = seeded.env(HIREGRAPH_DATA_DIR=str(tmp_path))
    result = await asyncio.to_thread(hiregraph, "seed", "--scale", "small", env=env)
    assert_one_line_error(result, "--reset")
    assert await _counts(seeded) == before


def test_migrate_is_idempotent(seeded: Seeded, tmp_path: Path) -> None:
    env = seeded.env(HIREGRAPH_DATA_DIR=str(tmp_path))
    for _ in range(2):
        result = hiregraph("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "migrated" in result.stdout


def test_gateway_starts_with_mongo_down_and_reports_it(seeded: Seeded, tmp_path: Path) -> None:
    env = seeded.env(
        HIREGRAPH_MONGO_URL=f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300",
        HIREGRAPH_READINESS_TIMEOUT="1",
    )
    proc, base = start_gateway(env, tmp_path)
    try:
        ready = httpx.get(f"{base}/readyz", timeout=10)
        # MongoDB is not required for readiness (README "Failure behaviour"): the pod
        # stays in rotation, serving everything that does not need candidate data.
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "degraded"
        assert body["degraded"] == ["mongo"]
        assert body["stores"]["mongo"]["status"] == "down"
        assert body["stores"]["postgres"]["status"] == "up"
        board = httpx.post(
            f"{base}/graphql",
            json={"query": "{ jobs(first: 2) { edges { node { title company { name } } } } }"},
            timeout=10,
        )
        assert len(board.json()["data"]["jobs"]["edges"]) == 2
    finally:
        assert stop_gateway(proc) == 0


def test_analytics_refresh_builds_the_rollup(seeded: Seeded, tmp_path: Path) -> None:
    result = hiregraph("analytics", "refresh", env=seeded.env(HIREGRAPH_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("job_stats rollup: snapshot "), result.stdout

    async def pointer() -> asyncpg.Record:
        conn = await asyncpg.connect(asyncpg_dsn(seeded.postgres_url))
        try:
            row: asyncpg.Record = await conn.fetchrow(
                "SELECT snapshot, (SELECT count(*) FROM job_stats_rollup r"
                " WHERE r.snapshot = a.snapshot) AS n FROM analytics_rollups a"
                " WHERE name = 'job_stats'"
            )
            return row
        finally:
            await conn.close()

    row = asyncio.run(pointer())
    assert f"snapshot {row['snapshot']}, {row['n']} rows" in result.stdout


def test_analytics_refresh_names_a_store_it_cannot_reach(seeded: Seeded, tmp_path: Path) -> None:
    dead = f"postgresql+asyncpg://hg:secret@127.0.0.1:{free_port()}/nope"
    env = seeded.env(HIREGRAPH_POSTGRES_URL=dead, HIREGRAPH_DATA_DIR=str(tmp_path))
    result = hiregraph("analytics", "refresh", env=env)
    assert_one_line_error(result, "refresh failed")
    assert "secret" not in result.stderr
