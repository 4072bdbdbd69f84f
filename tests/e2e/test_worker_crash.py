"""`hiregraph worker` as a real process: SIGTERM stops it cleanly, and an event it had
claimed but not yet published when it was SIGKILLed is published after a restart,
and applied once.

To catch the worker between claiming and publishing, RabbitMQ's memory alarm is raised
(`vm_memory_high_watermark` 0): RabbitMQ then stops reading from publishing
connections, so the relay's publish waits for a confirm that does not come while it
holds the row lock. The alarm is cleared before the restart, and in any case.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.postgres.engine import asyncpg_dsn
from tests.events import (
    AMQP_URL,
    Space,
    candidate_count,
    engine,
    event,
    eventually,
    insert_candidate,
    insert_jobs,
    insert_pg,
    job_counts,
)
from tests.stores import StoreUrls

__all__ = ["engine"]  # fixture

pytestmark = pytest.mark.e2e

CONSUMERS = ("cache-invalidation", "job-application-count", "candidate-application-count")


@pytest.fixture
async def broker_space() -> AsyncIterator[Space]:
    space = Space(AMQP_URL)
    space.consumers.update(CONSUMERS)
    yield space
    await space.remove()


@pytest.fixture
def worker_env(
    pg_url: str, mongo_db: Any, stores: StoreUrls, redis_prefix: str, broker_space: Space
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HIREGRAPH_")}
    return {
        **base,
        "HIREGRAPH_POSTGRES_URL": pg_url,
        "HIREGRAPH_MONGO_URL": stores.mongo,
        "HIREGRAPH_MONGO_DB": mongo_db.name,
        "HIREGRAPH_REDIS_URL": stores.redis,
        "HIREGRAPH_BROKER_URL": AMQP_URL,
        "HIREGRAPH_BROKER__NAMESPACE": broker_space.namespace,
        "HIREGRAPH_CACHE__KEY_PREFIX": redis_prefix.rstrip(":"),
        "HIREGRAPH_BROKER__RELAY_POLL_SECONDS": "0.02",
        # Long enough that the test sees the blocked publish holding its row.
        "HIREGRAPH_BROKER__PUBLISH_TIMEOUT_SECONDS": "120",
    }


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "worker"], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def submitted(job_id: int, candidate_id: str, application_id: int) -> Any:
    return event(
        "ApplicationSubmitted", str(application_id), job_id=job_id, candidate_id=candidate_id
    )


async def _exited(proc: subprocess.Popen[bytes], seconds: float) -> int:
    await eventually(lambda: proc.poll() is not None, seconds, "the worker to exit")
    code = proc.returncode
    assert code is not None
    return code


async def _rabbitmqctl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        "rabbitmqctl", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


@contextmanager
def _restore_watermark(original: str) -> Iterator[None]:
    try:
        yield
    finally:
        subprocess.run(
            ["rabbitmqctl", "eval", f"vm_memory_monitor:set_vm_memory_high_watermark({original})."],
            check=True, capture_output=True,
        )  # fmt: skip


async def _claimed(pg_url: str, event_id: str) -> bool:
    """True while another transaction (the relay's) holds the row's lock."""
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT 1 FROM outbox WHERE event_id = $1 FOR UPDATE NOWAIT", event_id
            )
        return False
    except asyncpg.LockNotAvailableError:
        return True
    finally:
        await conn.close()


async def _published_at(pg_url: str, event_id: str) -> Any:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        return await conn.fetchval("SELECT published_at FROM outbox WHERE event_id = $1", event_id)
    finally:
        await conn.close()


async def test_sigterm_stops_the_worker_cleanly(
    worker_env: dict[str, str], engine: AsyncEngine, mongo_db: Any, tmp_path: Path
) -> None:
    await insert_jobs(engine, [7])
    candidate = await insert_candidate(mongo_db)
    log = tmp_path / "worker.log"
    with worker(worker_env, log) as proc:
        await insert_pg(engine, [submitted(7, candidate, 1)])
        await eventually(lambda: _job_count(engine, 7, 1), 60, "the event to be applied")
        proc.send_signal(signal.SIGTERM)
        assert await _exited(proc, 30) == 0, log.read_text()
    assert "worker: stopped" in log.read_text()


async def _job_count(engine: AsyncEngine, job_id: int, expected: int) -> bool:
    return (await job_counts(engine))[job_id] == expected


async def test_an_event_claimed_by_a_killed_worker_is_published_after_restart(
    worker_env: dict[str, str], pg_url: str, engine: AsyncEngine, mongo_db: Any, tmp_path: Path
) -> None:
    await insert_jobs(engine, [7])
    candidate = await insert_candidate(mongo_db)
    log = tmp_path / "worker.log"
    warmup, stranded = submitted(7, candidate, 1), submitted(7, candidate, 2)
    original = await _rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().")
    with _restore_watermark(original):
        with worker(worker_env, log) as first:
            await insert_pg(engine, [warmup])
            await eventually(lambda: _job_count(engine, 7, 1), 60, "the warm-up event")
            await _rabbitmqctl("set_vm_memory_high_watermark", "0")  # publishes now hang
            await insert_pg(engine, [stranded])
            await eventually(lambda: _claimed(pg_url, stranded.event_id), 30, "the claim")
            first.send_signal(signal.SIGKILL)
            assert await _exited(first, 10) == -signal.SIGKILL
        await eventually(lambda: _not_claimed(pg_url, stranded.event_id), 30, "the lock to go")
        assert await _published_at(pg_url, stranded.event_id) is None
        await _rabbitmqctl("eval", f"vm_memory_monitor:set_vm_memory_high_watermark({original}).")
    with worker(worker_env, log):
        await eventually(lambda: _job_count(engine, 7, 2), 60, "the stranded event applied")
        await eventually(
            lambda: _candidate_count(mongo_db, candidate, 2), 30, "the candidate counter"
        )

        # The relay marks the row after the broker's confirm, which may come after the
        # consumer has already applied the event.
        async def marked() -> bool:
            return await _published_at(pg_url, stranded.event_id) is not None

        await eventually(marked, 30, "the stranded row marked published")
        await asyncio.sleep(1.0)  # a second delivery, were there one, would land by now
        assert (await job_counts(engine))[7] == 2
        assert await candidate_count(mongo_db, candidate) == 2


async def _not_claimed(pg_url: str, event_id: str) -> bool:
    return not await _claimed(pg_url, event_id)


async def _candidate_count(db: Any, candidate: str, expected: int) -> bool:
    return await candidate_count(db, candidate) == expected
