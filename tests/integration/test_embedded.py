"""Embedded servers: real processes under DATA_DIR, persistent, isolated, clear failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from datasources.postgres.engine import asyncpg_dsn
from gateway.embedded import EmbeddedStartError, EmbeddedStores

pytestmark = pytest.mark.integration


async def _write(urls: dict[str, str]) -> None:
    pg = await asyncpg.connect(asyncpg_dsn(urls["postgres"]))
    await pg.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('pg-ok')")
    await pg.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(urls["mongo"])
    await mongo.t.kept.insert_one({"v": "mongo-ok"})
    await mongo.close()
    redis = Redis.from_url(urls["redis"])
    await redis.set("kept", "redis-ok")
    await redis.save()
    await redis.aclose()


async def _read(urls: dict[str, str]) -> tuple[str, str, bytes | None]:
    pg = await asyncpg.connect(asyncpg_dsn(urls["postgres"]))
    v1 = await pg.fetchval("SELECT v FROM kept")
    await pg.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(urls["mongo"])
    doc = await mongo.t.kept.find_one()
    await mongo.close()
    redis = Redis.from_url(urls["redis"])
    v3 = await redis.get("kept")
    await redis.aclose()
    assert doc is not None
    return v1, doc["v"], v3


async def test_data_persists_across_restarts_and_dirs_do_not_collide(tmp_path: Path) -> None:
    all_three = ["postgres", "mongo", "redis"]
    with (
        EmbeddedStores(tmp_path / "a", all_three) as a,
        EmbeddedStores(tmp_path / "b", all_three) as b,
    ):
        assert set(a.urls.values()).isdisjoint(b.urls.values())
        await _write(a.urls)
        with pytest.raises(EmbeddedStartError, match="in use by another hiregraph process"):
            EmbeddedStores(tmp_path / "a", ["redis"]).start()
    with EmbeddedStores(tmp_path / "a", all_three) as again:
        assert await _read(again.urls) == ("pg-ok", "mongo-ok", b"redis-ok")


def test_foreign_postgres_directory_is_refused_and_kept(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    pgdata.mkdir()
    (pgdata / "precious.txt").write_text("do not delete")
    with pytest.raises(EmbeddedStartError, match="not a PostgreSQL data directory"):
        EmbeddedStores(tmp_path, ["postgres"]).start()
    assert (pgdata / "precious.txt").read_text() == "do not delete"


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(EmbeddedStartError, match="is not a directory"):
        EmbeddedStores(target, ["redis"]).start()


def test_corrupt_store_names_the_server_and_its_log_and_keeps_the_data(tmp_path: Path) -> None:
    dump = tmp_path / "redis" / "dump.rdb"
    dump.parent.mkdir()
    dump.write_bytes(b"REDIS0009 this is not an RDB file")
    with pytest.raises(EmbeddedStartError) as info:
        EmbeddedStores(tmp_path, ["redis"]).start()
    message = str(info.value)
    assert message.startswith("embedded Redis exited")
    assert str(tmp_path / "logs" / "redis.log") in message
    assert dump.read_bytes() == b"REDIS0009 this is not an RDB file"
