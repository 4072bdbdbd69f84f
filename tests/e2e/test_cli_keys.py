"""`hiregraph apikey` / `hiregraph documents` against a real, migrated PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import asyncpg
import pytest

from datasources.postgres.engine import asyncpg_dsn
from domain.api_keys import document_hash
from tests.e2e.test_cli import hiregraph

pytestmark = pytest.mark.e2e

BOARD = "query Board { jobs(first: 5) { edges { node { title } } } }\n"


def env_for(pg_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HIREGRAPH_")}
    return {**base, "HIREGRAPH_POSTGRES_URL": pg_url}


async def run(pg_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(hiregraph, *args, env=env_for(pg_url))


async def count(pg_url: str, table: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def assert_bad_input(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert needle in " ".join(result.stderr.split()), result.stderr


async def test_create_list_revoke(pg_url: str) -> None:
    created = await run(
        pg_url, "apikey", "create", "--name", "partner", "--role", "analyst",
        "--scope", "jobs:read", "--scope", "stats", "--rate", "5000/minute", "--trusted-only",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    key_id = re.search(r"id:\s+([0-9a-f]{16})", created.stdout)
    plaintext = re.search(r"key:\s+(hg_\S+)", created.stdout)
    assert key_id
    assert plaintext
    assert plaintext.group(1).startswith(f"hg_{key_id.group(1)}_")

    listed = await run(pg_url, "apikey", "list")
    assert listed.returncode == 0, listed.stderr
    assert key_id.group(1) in listed.stdout
    assert "ANALYST" in listed.stdout
    assert plaintext.group(1) not in listed.stdout

    revoked = await run(pg_url, "apikey", "revoke", key_id.group(1))
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked {key_id.group(1)}" in revoked.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--role", "superuser"), "'superuser' is not one of"),
        (("--role", "recruiter"), "needs --company-id"),
        (("--role", "candidate"), "needs --candidate-id"),
        (("--role", "admin", "--rate", "lots"), "is not a rate limit"),
        (("--role", "recruiter", "--company-id", "404"), "no company with id 404"),
    ],
)
async def test_bad_create_input_writes_nothing(
    pg_url: str, args: tuple[str, ...], needle: str
) -> None:
    result = await run(pg_url, "apikey", "create", "--name", "x", *args)
    assert_bad_input(result, needle)
    assert await count(pg_url, "api_keys") == 0


async def test_revoke_unknown_id(pg_url: str) -> None:
    assert_bad_input(await run(pg_url, "apikey", "revoke", "0" * 16), "no API key with id")


async def test_documents_add(pg_url: str, tmp_path: Path) -> None:
    created = await run(pg_url, "apikey", "create", "--name", "p", "--role", "admin")
    key_id = re.search(r"id:\s+([0-9a-f]{16})", created.stdout)
    assert key_id, created.stdout + created.stderr
    board = tmp_path / "board.graphql"
    board.write_text(BOARD)
    broken = tmp_path / "broken.graphql"
    broken.write_text("query { jobs(first: 5) { ")

    # One bad file: nothing is stored, not even the good one.
    result = await run(
        pg_url, "documents", "add", "--key", key_id.group(1), str(board), str(broken)
    )
    assert_bad_input(result, "broken.graphql: not GraphQL")
    assert await count(pg_url, "trusted_documents") == 0

    added = await run(pg_url, "documents", "add", "--key", key_id.group(1), str(board))
    assert added.returncode == 0, added.stderr
    assert document_hash(BOARD) in added.stdout
    assert "1 new" in added.stdout
    listed = await run(pg_url, "documents", "list", "--key", key_id.group(1))
    assert f"{document_hash(BOARD)}  board.graphql" in listed.stdout

    unknown = await run(pg_url, "documents", "add", "--key", "f" * 16, str(board))
    assert_bad_input(unknown, "no API key with id")
