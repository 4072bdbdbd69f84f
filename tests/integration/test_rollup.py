"""The board-wide jobStats rollup (migration 0007) against a real server: every grouping
set it holds answers exactly as the live statement does (which `test_analytics_pg`
checks against brute force); the triggers mark it stale on every write that changes a
figure, and only those; a refresh waits for the writes in flight; a failed refresh
keeps it marked; readers fall back to the live statement when it is too stale."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from datasources import observe
from datasources.postgres.analytics import PgAnalytics
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.rollup import LOCK_KEY, JobStatsRollup
from domain.analytics import JobBucket, JobGroup, JobStatsQuery, StatsOrder
from domain.enums import EmploymentType, RemotePolicy, Seniority
from domain.queries import JobFilter
from domain.rollup import ROLLUP_SETS
from tests.integration import test_analytics_pg as base

pytestmark = pytest.mark.integration
data = base.data  # 300 jobs over 6 companies: mixed currencies, NULL salaries and cities
COUNTRY = JobStatsQuery(JobFilter(), (JobGroup.COUNTRY,), first=100)
INSERT_JOB = (  # the fixture's jobs have explicit ids: the sequence is behind
    "INSERT INTO jobs (id, company_id, title, description, location, country, remote,"
    " employment_type, seniority, salary_min, salary_max, salary_currency, skills, status,"
    " posted_at) VALUES ((SELECT max(id) + 1 FROM jobs), 1, 't', 'd', 'x', $1, 'remote',"
    " 'full_time', 'mid', 50000, 60000, 'USD', '{python}', 'open', now())"
)


class Reads:
    """Records which path each covered read took (the `observe` sink's report)."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def analytics_read(self, rollup: str, outcome: str) -> None:
        self.outcomes.append(outcome)

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    recorder = Reads()
    monkeypatch.setattr(observe, "sink", recorder)
    return recorder


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    yield conn
    await conn.close()


def _same(got: list[JobBucket], want: list[JobBucket]) -> None:
    assert [(b.keys, b.currency, b.count) for b in got] == [
        (b.keys, b.currency, b.count) for b in want
    ]
    for g, w in zip(got, want, strict=True):
        s, t = g.salary, w.salary
        assert (s.count, s.min, s.max, s.p50, s.p90) == (t.count, t.min, t.max, t.p50, t.p90)
        # avg is a float sum: rows may be added in another order within a group
        assert (s.avg is None and t.avg is None) or math.isclose(s.avg, t.avg, rel_tol=1e-12)  # type: ignore[arg-type]


async def test_every_grouping_set_answers_as_the_live_statement(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, reads: Reads
) -> None:
    pool, _ = data
    done = await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    assert done is not None
    assert done.rows > 0
    live, rolled = PgAnalytics(pool), PgAnalytics(pool, rollup_max_staleness=3600)
    orders = list(StatsOrder)
    for i, groups in enumerate(ROLLUP_SETS):
        for keys in {tuple(sorted(groups)), tuple(sorted(groups, reverse=True))}:
            # every order over the sets; `first` cuts within ties only by the tie keys
            q = JobStatsQuery(
                JobFilter(), keys, orders[i % len(orders)], first=(7, 300, 1000)[i % 3]
            )
            _same(await rolled.job_stats(q), await live.job_stats(q))
    assert set(reads.outcomes) == {"rollup"}
    assert len(reads.outcomes) == sum(2 if len(s) == 2 else 1 for s in ROLLUP_SETS)


@pytest.mark.parametrize(
    ("f", "groups"),
    [
        (JobFilter(countries=("IN",)), (JobGroup.SENIORITY,)),
        (JobFilter(countries=("DE",)), (JobGroup.COUNTRY,)),
        (JobFilter(countries=("US",)), ()),
        (JobFilter(seniorities=(Seniority.SENIOR,)), (JobGroup.SKILL,)),
        (JobFilter(remote=(RemotePolicy.HYBRID,)), (JobGroup.POSTED_MONTH,)),
        (JobFilter(employment_types=(EmploymentType.FULL_TIME,)), (JobGroup.CITY,)),
        (JobFilter(company_ids=(3,)), ()),
        (JobFilter(company_ids=(4,)), (JobGroup.COMPANY,)),
    ],
)
async def test_a_one_value_filter_reads_the_pinned_rows(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, reads: Reads,
    f: JobFilter, groups: tuple[JobGroup, ...],
) -> None:  # fmt: skip
    pool, _ = data
    await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    q = JobStatsQuery(f, groups, StatsOrder.KEY_ASC, first=1000)
    rolled = await PgAnalytics(pool, rollup_max_staleness=3600).job_stats(q)
    assert rolled
    _same(rolled, await PgAnalytics(pool).job_stats(q))
    assert reads.outcomes == ["rollup"]


async def test_requests_it_does_not_cover_are_computed_live(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, reads: Reads
) -> None:
    pool, _ = data
    await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    repo = PgAnalytics(pool, rollup_max_staleness=3600)
    for q in (
        JobStatsQuery(JobFilter(countries=("IN", "DE")), (JobGroup.CITY,)),
        JobStatsQuery(JobFilter(skills_any=("go",)), (JobGroup.COUNTRY,)),
        JobStatsQuery(JobFilter(), (JobGroup.COMPANY, JobGroup.SKILL)),
        JobStatsQuery(JobFilter(), (JobGroup.CITY, JobGroup.SKILL, JobGroup.SENIORITY)),
    ):
        _same(await repo.job_stats(q), await PgAnalytics(pool).job_stats(q))
    assert reads.outcomes == []


async def test_the_skills_gap_demand_reads_the_skill_set(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, reads: Reads
) -> None:
    pool, _ = data
    await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    rolled = await PgAnalytics(pool, rollup_max_staleness=3600).skill_demand(JobFilter())
    live = await PgAnalytics(pool).skill_demand(JobFilter())
    assert sorted(rolled, key=lambda d: d.skill) == sorted(live, key=lambda d: d.skill)
    assert len(live) == len(base.SKILLS)
    assert reads.outcomes == ["rollup"]


async def _stale_since(db: asyncpg.Connection) -> Any:
    return await db.fetchval(
        "SELECT least(pending_since, dirty_since) FROM analytics_rollups WHERE name = 'job_stats'"
    )


async def test_writes_that_change_a_figure_mark_it_stale(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection
) -> None:
    rollup = JobStatsRollup(asyncpg_dsn(pg_url))
    marks = {
        "UPDATE jobs SET application_count = application_count + 1 WHERE id = 1": False,
        "UPDATE jobs SET title = 'renamed', updated_at = now() WHERE id = 1": False,
        "UPDATE companies SET name = 'Renamed' WHERE id = 1": False,
        "UPDATE jobs SET salary_max = salary_max + 1 WHERE id = 2": True,
        "UPDATE jobs SET status = 'closed' WHERE id = 3": True,
        "UPDATE jobs SET skills = '{rust}' WHERE id = 4": True,
        "UPDATE companies SET industry = 'Retail' WHERE id = 2": True,
        "DELETE FROM applications WHERE job_id = 5; DELETE FROM jobs WHERE id = 5": True,
    }
    for sql, marked in marks.items():
        await rollup.refresh()
        assert await _stale_since(db) is None
        await db.execute(sql)
        assert (await _stale_since(db) is not None) is marked, sql
    await rollup.refresh()
    await db.execute(INSERT_JOB, "IN")
    assert await _stale_since(db) is not None


async def test_a_stale_rollup_is_read_within_the_bound_and_refreshed(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection, reads: Reads
) -> None:
    pool, _ = data
    rollup = JobStatsRollup(asyncpg_dsn(pg_url))
    await rollup.refresh()
    before = await PgAnalytics(pool).job_stats(COUNTRY)
    await db.execute(INSERT_JOB, "FR")  # a country no job had
    tolerant = PgAnalytics(pool, rollup_max_staleness=3600)
    strict = PgAnalytics(pool, rollup_max_staleness=0)
    _same(await tolerant.job_stats(COUNTRY), before)  # stale by less than an hour: read
    fresh = await strict.job_stats(COUNTRY)  # stale at all: computed live
    assert "FR" in {b.keys[JobGroup.COUNTRY] for b in fresh}
    assert reads.outcomes == ["rollup", "stale"]
    assert await rollup.due()
    await rollup.refresh()
    assert not await rollup.due()
    _same(await strict.job_stats(COUNTRY), fresh)
    assert reads.outcomes[-1] == "rollup"


async def test_no_snapshot_yet_means_live(
    data: tuple[asyncpg.Pool, list[base.Row]], reads: Reads
) -> None:
    pool, _ = data
    got = await PgAnalytics(pool, rollup_max_staleness=3600).job_stats(COUNTRY)
    _same(got, await PgAnalytics(pool).job_stats(COUNTRY))
    assert reads.outcomes == ["stale"]


async def test_a_refresh_waits_for_the_writes_in_flight(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection
) -> None:
    """Both kinds of writer: one that found the marker clear (and set it), and one
    that found it already set; each is in the snapshot or marks the rollup again."""
    pool, _ = data
    rollup = JobStatsRollup(asyncpg_dsn(pg_url))
    await rollup.refresh()
    await db.execute(INSERT_JOB, "FR")  # committed: the marker is set
    writer = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        tx = writer.transaction()
        await tx.start()
        await writer.execute(INSERT_JOB, "JP")  # in flight, the marker already set
        refreshing = asyncio.create_task(rollup.refresh())
        await asyncio.sleep(0.5)
        assert not refreshing.done()  # waiting for the writer's share lock
        await tx.commit()
        await asyncio.wait_for(refreshing, 30)
    finally:
        await writer.close()
    assert await _stale_since(db) is None
    got = await PgAnalytics(pool, rollup_max_staleness=0).job_stats(COUNTRY)
    assert {"FR", "JP"} <= {b.keys[JobGroup.COUNTRY] for b in got}


async def test_a_failed_refresh_keeps_the_rollup_marked(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection, reads: Reads
) -> None:
    pool, _ = data
    await JobStatsRollup(asyncpg_dsn(pg_url)).refresh()
    await db.execute(INSERT_JOB, "FR")
    marked = await _stale_since(db)
    with pytest.raises(asyncpg.QueryCanceledError):
        await JobStatsRollup(asyncpg_dsn(pg_url), statement_timeout_ms=1).refresh()
    assert await _stale_since(db) == marked  # moved to pending_since, not lost
    got = await PgAnalytics(pool, rollup_max_staleness=0).job_stats(COUNTRY)
    assert "FR" in {b.keys[JobGroup.COUNTRY] for b in got}
    assert reads.outcomes == ["stale"]


async def test_one_refresh_at_a_time(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection
) -> None:
    await db.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)  # another worker refreshing
    assert await JobStatsRollup(asyncpg_dsn(pg_url)).refresh() is None
    await db.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    assert await JobStatsRollup(asyncpg_dsn(pg_url)).refresh() is not None


async def test_old_snapshots_are_deleted(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection
) -> None:
    rollup = JobStatsRollup(asyncpg_dsn(pg_url))
    snapshots = [(await rollup.refresh()).snapshot for _ in range(3)]  # type: ignore[union-attr]
    kept = await db.fetch("SELECT DISTINCT snapshot FROM job_stats_rollup ORDER BY 1")
    assert [r[0] for r in kept] == snapshots[1:]  # the current one and the one before


async def test_the_worker_task_refreshes_after_a_change(
    data: tuple[asyncpg.Pool, list[base.Row]], pg_url: str, db: asyncpg.Connection
) -> None:
    rollup = JobStatsRollup(asyncpg_dsn(pg_url), min_interval=0.2, poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(rollup.run(stop))
    try:
        async with asyncio.timeout(30):
            while await rollup.due():  # noqa: ASYNC110 - a database row; the first pass makes a snapshot
                await asyncio.sleep(0.05)
            await db.execute(INSERT_JOB, "FR")
            await asyncio.sleep(0.3)  # past min_interval; the poll is a minute away
            rollup.wake()  # what the consumer of job events does
            while await rollup.due():  # noqa: ASYNC110 - a database row
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
