"""The board-wide `jobStats` rollup (migration 0007): how it is computed and read.

Refresh (`JobStatsRollup.refresh`, run by `hiregraph worker` or `hiregraph analytics
refresh`), on its own connection, under a session advisory lock so that one worker
replica refreshes at a time:

1. a short transaction moves `dirty_since` into `pending_since` and clears it: it waits
   for the writes in flight (they hold a share lock on the row), and every later write
   sets `dirty_since` again;
2. a REPEATABLE READ transaction computes every grouping set of `domain.rollup` into a
   new snapshot (`refresh_statements`: one INSERT ... SELECT with GROUPING SETS over
   `jobs`, one per set with SKILL over `job_skills`; one snapshot of the data for all);
3. a short transaction points readers at the new snapshot (`refreshed_at` = when step 1
   ran: every change before it is in the snapshot), clears `pending_since`, and deletes
   every snapshot but the new one and the one before (a read is one statement, which
   keeps seeing the rows of the snapshot it started on; the one before stays for
   comparison until the next refresh).

A failure in 2 or 3 leaves the old snapshot, and `pending_since` still says since when
it is stale. Read (`rollup_statement`): one statement returning the pointer, whether it
is fresh enough, and the buckets (none when it is not); the caller falls back to the
live statement when it is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    func,
    insert,
    literal,
    nulls_last,
    or_,
    select,
    true,
    tuple_,
)

from datasources import observe
from datasources.events.relay import sleep_or_stop
from datasources.postgres.reader import compile_statement
from datasources.postgres.stats_rows import job_stats_rows
from datasources.postgres.tables import (
    analytics_rollups,
    companies,
    job_skills,
    job_stats_rollup,
    jobs,
)
from domain.analytics import JobGroup, JobStatsQuery, StatsOrder
from domain.queries import JobFilter
from domain.rollup import ROLLUP_SETS, RollupRead, rollup_mask

log = logging.getLogger("hiregraph.analytics.rollup")

NAME = "job_stats"
LOCK_KEY = 0x4847_726F_6C6C  # pg advisory lock: one refresh at a time ("HGroll")
# What the refresh transaction runs with: the sorts of the grouping sets fit in memory
# (at the default 4 MB each spills to disk), no JIT compilation of a statement run once,
# and the covering index of job_skills costed as cached (as in the live SKILL statement).
REFRESH_SETTINGS = (
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL jit = off",
    "SET LOCAL random_page_cost = 1.1",
)
FIGURES = ("n", "n_salary", "lo", "hi", "avg", "p50", "p90")


def _key(g: JobGroup) -> str:
    return f"g_{g.value}"


# -- refresh ------------------------------------------------------------------------------


def refresh_statements(snapshot: int) -> list[Any]:
    """The INSERT ... SELECT that compute a snapshot: the sets without SKILL in one
    statement over `jobs` (GROUPING SETS: one scan, one sort per set), then each set
    with SKILL on its own over `job_skills`. Those read its covering index in (skill,
    currency) order, so each needs only an incremental sort by its other key, where
    one GROUPING SETS statement would sort all 1.1M rows (at large) once per set:
    measured at large, 19.7 s for the nine sets together."""
    without = [s for s in ROLLUP_SETS if JobGroup.SKILL not in s]
    out = [_insert(snapshot, jobs, without)]
    out += [_insert(snapshot, job_skills, [s]) for s in ROLLUP_SETS if JobGroup.SKILL in s]
    return out


def _insert(snapshot: int, source: Table, sets: list[frozenset[JobGroup]]) -> Any:
    order = list(JobGroup)
    dims = tuple(g for g in order if g in frozenset().union(*sets))
    x = job_stats_rows(JobFilter(), dims, source, company_name=False).subquery("x")
    group_by: Any
    if len(sets) == 1:  # a plain GROUP BY, skill and currency first (the index's order)
        first = [x.c[_key(g)] for g in dims if g is JobGroup.SKILL] + [x.c.currency]
        group_by = [*first, *(x.c[_key(g)] for g in dims if g is not JobGroup.SKILL)]
        mask: Any = literal(rollup_mask(sets[0]))
    else:  # GROUPING() takes only grouped columns: `dims` are those of some set
        keys = [tuple_(*(x.c[_key(g)] for g in dims if g in s), x.c.currency) for s in sets]
        group_by = [func.grouping_sets(*keys)]
        bits = ((1 - func.grouping(x.c[_key(g)])) * (1 << order.index(g)) for g in dims)
        mask = sum(bits, literal(0))
    v = x.c.v
    computed = select(
        literal(snapshot), mask, *(x.c[_key(g)] for g in dims), x.c.currency,
        func.count(), func.count(v), func.min(v), func.max(v), func.avg(v),
        func.percentile_cont(0.5).within_group(v),
        func.percentile_cont(0.9).within_group(v),
    ).group_by(*group_by)  # fmt: skip
    t = job_stats_rollup.c
    columns = [t.snapshot, t.grouping, *(t[_key(g)] for g in dims), t.currency]
    columns += [t[f] for f in FIGURES]
    return insert(job_stats_rollup).from_select(columns, computed)


@dataclass(frozen=True, slots=True)
class Refreshed:
    snapshot: int
    as_of: datetime
    rows: int
    seconds: float


class JobStatsRollup:
    """Refreshes the rollup: on demand (`refresh`), or as a worker task (`run`) that
    checks the marker every `poll_seconds` (or when `wake` is called, by the consumer
    of job events) and refreshes when it is set, at most every `min_interval`."""

    def __init__(
        self,
        dsn: str,
        *,
        min_interval: float = 30.0,
        poll_seconds: float = 5.0,
        statement_timeout_ms: int = 600_000,
    ) -> None:
        self._dsn = dsn
        self._min_interval = min_interval
        self._poll = poll_seconds
        self._timeout_ms = statement_timeout_ms
        self._wake = asyncio.Event()
        self._last_attempt = -float("inf")

    def wake(self) -> None:
        self._wake.set()

    async def refresh(self) -> Refreshed | None:
        """Compute a new snapshot now; None when another process holds the lock."""
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                return None
            started, ok = time.perf_counter(), False
            try:
                done = await self._refresh(conn)
                ok = True
                return done
            finally:
                observe.sink.rollup_refresh(NAME, time.perf_counter() - started, ok)
                # A lost connection takes its session lock with it: keep the first error.
                with contextlib.suppress(Exception):
                    await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        finally:
            await conn.close()

    async def _refresh(self, conn: asyncpg.Connection) -> Refreshed:
        started = time.perf_counter()
        as_of: datetime = await conn.fetchval(
            """
            INSERT INTO analytics_rollups AS r (name) VALUES ($1)
            ON CONFLICT (name) DO UPDATE
                SET pending_since = least(r.pending_since, r.dirty_since), dirty_since = NULL
            RETURNING now()
            """,
            NAME,
        )
        async with conn.transaction(isolation="repeatable_read"):
            for setting in REFRESH_SETTINGS:
                await conn.execute(setting)
            await conn.execute(f"SET LOCAL statement_timeout = {int(self._timeout_ms)}")
            snapshot: int = await conn.fetchval("SELECT nextval('analytics_snapshot_seq')")
            rows = 0
            for stmt in refresh_statements(snapshot):
                sql, args = compile_statement(stmt)
                status = await conn.execute(sql, *args)  # "INSERT 0 <rows>"
                rows += int(status.rsplit(" ", 1)[1])
        async with conn.transaction():
            previous = await conn.fetchval(
                "SELECT snapshot FROM analytics_rollups WHERE name = $1 FOR UPDATE", NAME
            )
            await conn.execute(
                "UPDATE analytics_rollups SET snapshot = $2, refreshed_at = $3,"
                " pending_since = NULL WHERE name = $1",
                NAME, snapshot, as_of,
            )  # fmt: skip
            await conn.execute(
                "DELETE FROM job_stats_rollup WHERE snapshot <> $1"
                " AND snapshot IS DISTINCT FROM $2",
                snapshot, previous,
            )  # fmt: skip
        done = Refreshed(snapshot, as_of, rows, time.perf_counter() - started)
        log.info("job_stats rollup: snapshot %d, %d rows in %.2f s",
                 snapshot, rows, done.seconds)  # fmt: skip
        return done

    async def due(self) -> bool:
        """No snapshot yet, or a change since the last one began."""
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        try:
            row = await conn.fetchrow(
                "SELECT snapshot, least(pending_since, dirty_since) AS stale_since"
                " FROM analytics_rollups WHERE name = $1",
                NAME,
            )
        finally:
            await conn.close()
        return row is None or row["snapshot"] is None or row["stale_since"] is not None

    async def run(self, stop: asyncio.Event) -> None:
        """The worker task: refresh when due, until `stop`."""
        while not stop.is_set():
            wait = self._last_attempt + self._min_interval - time.monotonic()
            if wait > 0:  # a wake meanwhile stays set for the check after it
                await sleep_or_stop(stop, wait)
                continue
            self._wake.clear()
            try:
                if await self.due():
                    self._last_attempt = time.monotonic()
                    await self.refresh()
            except Exception:
                log.exception("job_stats rollup: refresh failed; retried in %.0f s",
                              self._min_interval)  # fmt: skip
            await _until_woken(stop, self._wake, self._poll)


async def _until_woken(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Until `seconds` pass or `stop` or `wake` is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in (stop, wake)]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


# -- read ---------------------------------------------------------------------------------


def rollup_statement(
    q: JobStatsQuery, read: RollupRead, max_staleness: float, *, first: int | None
) -> Select[Any]:
    """The pointer, `usable` (a snapshot exists and is stale by at most
    `max_staleness` seconds) and, when usable, the buckets of `q` in `q`'s order: the
    same columns, names and order as the live statement (`analytics._bucket` reads
    both). With no bucket, one row with the bucket columns NULL."""
    m_src = analytics_rollups.c
    m = (
        select(
            m_src.snapshot,
            func.least(m_src.pending_since, m_src.dirty_since).label("stale_since"),
        )
        .where(m_src.name == NAME)
        .cte("m")
    )
    usable = and_(
        m.c.snapshot.is_not(None),
        or_(
            m.c.stale_since.is_(None),
            func.now() - m.c.stale_since <= func.make_interval(0, 0, 0, 0, 0, 0, max_staleness),
        ),
    )
    r = job_stats_rollup
    keys: list[ColumnElement[Any]] = [r.c[_key(g)] for g in q.group_by]
    named = [r.c[_key(g)].label(_key(g)) for g in q.group_by]
    source: Any = r
    if JobGroup.COMPANY in q.group_by:
        source = r.outerjoin(companies, companies.c.id == r.c.g_company)
        keys.append(companies.c.name)
        named.append(companies.c.name.label("company_name"))
    keys.append(r.c.currency)
    orders: dict[StatsOrder, list[Any]] = {
        StatsOrder.COUNT_DESC: [r.c.n.desc()],
        StatsOrder.COUNT_ASC: [r.c.n.asc()],
        StatsOrder.SALARY_P50_DESC: [nulls_last(r.c.p50.desc())],
        StatsOrder.SALARY_P50_ASC: [nulls_last(r.c.p50.asc())],
        StatsOrder.KEY_ASC: [],
    }
    order = [*orders[q.order], *keys]
    conditions = [r.c.snapshot == m.c.snapshot, usable, r.c.grouping == read.mask]
    conditions += [r.c[_key(g)] == value for g, value in read.pinned]
    buckets = (
        select(
            *named, r.c.currency, *(r.c[f] for f in FIGURES),
            func.row_number().over(order_by=order).label("rank"),
        )
        .select_from(source)
        .where(*conditions)
        .order_by(*order)
        .limit(first)
        .lateral("b")
    )  # fmt: skip
    return (
        select(usable.label("usable"), *(c for c in buckets.c if c.name != "rank"))
        .select_from(m.outerjoin(buckets, true()))
        .order_by(buckets.c.rank)
    )
