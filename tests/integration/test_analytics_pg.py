"""Postgres aggregates against a real server, each compared with a brute-force answer
computed in Python from the rows the test inserted (percentiles: linear interpolation,
as percentile_cont)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from datasources.postgres.analytics import PgAnalytics
from datasources.postgres.engine import asyncpg_dsn
from datasources.postgres.reader import create_pool
from domain.analytics import (
    FunnelQuery,
    Interval,
    JobGroup,
    JobStatsQuery,
    StatsOrder,
    TimeseriesQuery,
    percentile,
)
from domain.applications import PIPELINE
from domain.enums import JobStatus
from domain.queries import JobFilter
from tests.roundtrips import statements

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, tzinfo=UTC)
SKILLS = ["python", "go", "sql", "react", "kubernetes"]
INDUSTRIES = ["Software", "Fintech", "Health"]


@dataclass(frozen=True)
class Row:
    id: int
    company_id: int
    industry: str
    country: str
    city: str | None
    remote: str
    seniority: str
    salary_min: int | None
    salary_max: int | None
    currency: str | None
    skills: list[str]
    status: str
    posted_at: datetime | None

    @property
    def salary(self) -> float | None:
        lo, hi = self.salary_min, self.salary_max
        if lo is not None and hi is not None:
            return (lo + hi) / 2
        return float(lo) if lo is not None else (float(hi) if hi is not None else None)


def _job(rng: random.Random, i: int) -> Row:
    currency = rng.choice(["INR", "USD", "EUR", None])  # mixed currencies, some none
    lo = hi = None
    if currency is not None and rng.random() < 0.85:
        lo = rng.randrange(10, 100) * 1000
        hi = lo + rng.randrange(0, 50) * 1000
        if rng.random() < 0.1:
            lo = None  # one bound only
    status = rng.choice(["open"] * 6 + ["draft", "closed"])
    posted = None if status == "draft" else T0 + timedelta(hours=rng.randrange(0, 24 * 90))
    company = 1 + i % 6
    return Row(
        i, company, INDUSTRIES[company % 3], rng.choice(["IN", "US", "DE"]),
        rng.choice(["Pune", "Berlin", None]), rng.choice(["remote", "onsite", "hybrid"]),
        rng.choice(["junior", "mid", "senior"]), lo, hi, currency,
        rng.sample(SKILLS, rng.randrange(0, 4)), status, posted,
    )  # fmt: skip


@pytest.fixture
async def data(pg_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[Row]]]:
    rng = random.Random(8)
    rows = [_job(rng, i) for i in range(1, 301)]
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.executemany(
            "INSERT INTO companies (id, slug, name, industry) VALUES ($1, $2, $3, $4)",
            [(c, f"co-{c}", f"Co {c}", INDUSTRIES[c % 3]) for c in range(1, 8)],
        )
        await conn.executemany(
            "INSERT INTO jobs (id, company_id, title, description, location, city, country,"
            " remote, employment_type, seniority, salary_min, salary_max, salary_currency,"
            " skills, status, posted_at) VALUES ($1, $2, 't', 'd', 'x', $3, $4, $5,"
            " 'full_time', $6, $7, $8, $9, $10, $11, $12)",
            [
                (
                    r.id,
                    r.company_id,
                    r.city,
                    r.country,
                    r.remote,
                    r.seniority,
                    r.salary_min,
                    r.salary_max,
                    r.currency,
                    r.skills,
                    r.status,
                    r.posted_at,
                )
                for r in rows
            ],
        )
    finally:
        await conn.close()
    pool = await create_pool(
        asyncpg_dsn(pg_url), max_size=2, acquire_timeout=5, statement_timeout_ms=5000
    )
    yield pool, rows
    await pool.close()


def _week(t: datetime) -> datetime:
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _month(t: datetime) -> datetime:
    return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


_KEY: dict[JobGroup, Callable[[Row], Any]] = {
    JobGroup.COMPANY: lambda r: (r.company_id, f"Co {r.company_id}"),
    JobGroup.INDUSTRY: lambda r: r.industry,
    JobGroup.COUNTRY: lambda r: r.country,
    JobGroup.CITY: lambda r: r.city,
    JobGroup.REMOTE: lambda r: r.remote,
    JobGroup.SENIORITY: lambda r: r.seniority,
    JobGroup.POSTED_WEEK: lambda r: r.posted_at and _week(r.posted_at),
    JobGroup.POSTED_MONTH: lambda r: r.posted_at and _month(r.posted_at),
}


def brute_stats(
    rows: list[Row], groups: tuple[JobGroup, ...], keep: Callable[[Row], bool]
) -> dict[tuple[Any, ...], tuple[int, list[float]]]:
    found: dict[tuple[Any, ...], tuple[int, list[float]]] = {}
    for r in rows:
        if not keep(r):
            continue
        skills: list[str | None] = list(r.skills) or [None]
        for skill in skills if JobGroup.SKILL in groups else [None]:
            key = (*tuple(skill if g is JobGroup.SKILL else _KEY[g](r) for g in groups), r.currency)
            n, values = found.get(key, (0, []))
            found[key] = (n + 1, values + ([r.salary] if r.salary is not None else []))
    return found


def _open(r: Row) -> bool:
    return r.status == "open"


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))
    )


async def _check_stats(
    repo: PgAnalytics, rows: list[Row], groups: tuple[JobGroup, ...], f: JobFilter,
    keep: Callable[[Row], bool],
) -> None:  # fmt: skip
    got = await repo.job_stats(JobStatsQuery(f, groups, first=1000))
    expected = brute_stats(rows, groups, keep)
    assert len(got) == len(expected)
    for b in got:
        key = (*tuple(b.keys[g] for g in groups), b.currency)
        n, values = expected[key]
        assert b.count == n, key
        s = b.salary
        assert s.count == len(values)
        want = [
            min(values, default=None), max(values, default=None),
            sum(values) / len(values) if values else None,
            percentile(values, 0.5), percentile(values, 0.9),
        ]  # fmt: skip
        for have, expect in zip([s.min, s.max, s.avg, s.p50, s.p90], want, strict=True):
            assert _close(have, expect), (key, have, expect)


@pytest.mark.parametrize(
    "groups",
    [
        (JobGroup.COUNTRY,),
        (JobGroup.SKILL,),
        (JobGroup.COMPANY, JobGroup.REMOTE),
        (JobGroup.INDUSTRY, JobGroup.SENIORITY, JobGroup.CITY),
        (JobGroup.POSTED_WEEK,),
        (JobGroup.SKILL, JobGroup.POSTED_MONTH),
        (),
    ],
)
async def test_job_stats_match_brute_force(
    data: tuple[asyncpg.Pool, list[Row]], groups: tuple[JobGroup, ...]
) -> None:
    pool, rows = data
    repo = PgAnalytics(pool)
    with statements() as log:
        await _check_stats(repo, rows, groups, JobFilter(), _open)
    assert log.postgres == 1


async def test_job_stats_use_the_jobs_filter(data: tuple[asyncpg.Pool, list[Row]]) -> None:
    pool, rows = data
    f = JobFilter(
        countries=("in", "de"), skills_any=("python", "go"),
        statuses=(JobStatus.OPEN, JobStatus.CLOSED),
    )  # fmt: skip

    def keep(r: Row) -> bool:
        return (r.status in ("open", "closed") and r.country in ("IN", "DE")
                and bool({"python", "go"} & set(r.skills)))  # fmt: skip

    await _check_stats(PgAnalytics(pool), rows, (JobGroup.SKILL, JobGroup.COUNTRY), f, keep)


async def test_job_stats_filter_matching_nothing(data: tuple[asyncpg.Pool, list[Row]]) -> None:
    pool, _ = data
    got = await PgAnalytics(pool).job_stats(
        JobStatsQuery(JobFilter(skills_all=("cobol",)), (JobGroup.COUNTRY,))
    )
    assert got == []
    got = await PgAnalytics(pool).job_stats(JobStatsQuery(JobFilter(company_ids=()), ()))
    assert got == []


async def test_job_stats_order_and_first(data: tuple[asyncpg.Pool, list[Row]]) -> None:
    pool, rows = data
    repo = PgAnalytics(pool)
    expected = brute_stats(rows, (JobGroup.SKILL,), _open)
    counts = sorted((n for n, _ in expected.values()), reverse=True)
    got = await repo.job_stats(JobStatsQuery(JobFilter(), (JobGroup.SKILL,), first=4))
    assert [b.count for b in got] == counts[:4]
    asc = await repo.job_stats(
        JobStatsQuery(JobFilter(), (JobGroup.SKILL,), StatsOrder.COUNT_ASC, first=3)
    )
    assert [b.count for b in asc] == sorted(counts)[:3]
    by_p50 = await repo.job_stats(
        JobStatsQuery(JobFilter(), (JobGroup.COUNTRY,), StatsOrder.SALARY_P50_DESC, first=100)
    )
    p50s = [b.salary.p50 for b in by_p50]
    present = [p for p in p50s if p is not None]
    assert present == sorted(present, reverse=True)
    assert p50s[len(present) :] == [None] * (len(p50s) - len(present))  # no salary: last


async def test_single_row_and_null_salaries(pg_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(pg_url))
    try:
        await conn.execute(
            "INSERT INTO companies (id, slug, name, industry) VALUES (1,'a','A','X')"
        )
        await conn.execute(
            "INSERT INTO jobs (id, company_id, title, description, location, country, remote,"
            " employment_type, seniority, salary_min, salary_max, salary_currency, skills,"
            " status, posted_at) VALUES"
            " (1, 1, 't', 'd', 'x', 'IN', 'remote', 'full_time', 'mid', 100, 300, 'INR',"
            "  '{python}', 'open', now()),"
            " (2, 1, 't', 'd', 'x', 'IN', 'remote', 'full_time', 'mid', NULL, NULL, 'INR',"
            "  '{python}', 'open', now())"
        )
    finally:
        await conn.close()
    pool = await create_pool(
        asyncpg_dsn(pg_url), max_size=1, acquire_timeout=5, statement_timeout_ms=5000
    )
    try:
        (b,) = await PgAnalytics(pool).job_stats(JobStatsQuery(JobFilter(), (JobGroup.SKILL,)))
    finally:
        await pool.close()
    assert (b.keys[JobGroup.SKILL], b.currency, b.count) == ("python", "INR", 2)
    s = b.salary
    assert (s.count, s.min, s.max, s.avg, s.p50, s.p90) == (1, 200, 200, 200, 200, 200)


def _floor(t: datetime, interval: Interval) -> datetime:
    if interval is Interval.DAY:
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    return _week(t) if interval is Interval.WEEK else _month(t)


def _next(t: datetime, interval: Interval) -> datetime:
    if interval is Interval.DAY:
        return t + timedelta(days=1)
    if interval is Interval.WEEK:
        return t + timedelta(weeks=1)
    return (t + timedelta(days=32)).replace(day=1)


@pytest.mark.parametrize("interval", list(Interval))
async def test_timeseries_fills_empty_buckets(
    data: tuple[asyncpg.Pool, list[Row]], interval: Interval
) -> None:
    pool, rows = data
    start, end = T0 - timedelta(days=20, hours=5), T0 + timedelta(days=130)
    f = JobFilter(countries=("IN",))
    got = await PgAnalytics(pool).postings_timeseries(TimeseriesQuery(f, interval, start, end))
    expected: dict[datetime, int] = {}
    t = _floor(start, interval)
    while t < end:
        expected[t] = 0
        t = _next(t, interval)
    for r in rows:
        if r.status == "open" and r.country == "IN" and r.posted_at and start <= r.posted_at < end:
            expected[_floor(r.posted_at, interval)] += 1
    assert [(p.start, p.count) for p in got] == sorted(expected.items())
    assert any(p.count == 0 for p in got)  # the range starts before any posting


async def test_timeseries_matching_nothing_is_all_zero(
    data: tuple[asyncpg.Pool, list[Row]],
) -> None:
    pool, _ = data
    q = TimeseriesQuery(JobFilter(search="zzzz"), Interval.DAY, T0, T0 + timedelta(days=3))
    got = await PgAnalytics(pool).postings_timeseries(q)
    assert [(p.start, p.count) for p in got] == [(T0 + timedelta(days=i), 0) for i in range(3)]


async def test_skill_demand_matches_brute_force(data: tuple[asyncpg.Pool, list[Row]]) -> None:
    pool, rows = data
    got = {d.skill: d for d in await PgAnalytics(pool).skill_demand(JobFilter())}
    jobs: dict[str, int] = defaultdict(int)
    salaries: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r.status != "open":
            continue
        for s in r.skills:
            jobs[s] += 1
            if r.salary is not None and r.currency is not None:
                salaries[(s, r.currency)].append(r.salary)
    assert {s: d.jobs for s, d in got.items()} == dict(jobs)
    for (skill, currency), values in salaries.items():
        assert _close(got[skill].median_salary[currency], percentile(values, 0.5))
    assert sum(len(d.median_salary) for d in got.values()) == len(salaries)


# -- funnel -------------------------------------------------------------------------------


async def _funnel_data(pool: asyncpg.Pool, rng: random.Random) -> list[dict[str, Any]]:
    """Applications to jobs 1..6, each moved along the pipeline with history rows."""
    apps = []
    for i in range(1, 121):
        applied = T0 + timedelta(days=rng.randrange(0, 30), hours=rng.randrange(0, 24))
        depth = rng.choice([0, 0, 1, 1, 2, 3, 4])
        times = [applied]
        for _ in range(depth):
            times.append(times[-1] + timedelta(hours=rng.randrange(1, 24 * 12)))
        end = rng.choice([None, None, "rejected", "withdrawn"]) if depth < 4 else None
        status = end or PIPELINE[depth].value
        apps.append({"id": i, "job": 1 + i % 12, "applied": applied, "times": times,
                     "status": status, "legacy": i % 10 == 0})  # fmt: skip
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO applications (id, job_id, candidate_id, status, source, applied_at)"
            " VALUES ($1, $2, $3, $4, 'web', $5)",
            [(a["id"], a["job"], f"{a['id']:024x}", a["status"], a["applied"]) for a in apps],
        )
        history = []
        for a in apps:
            if a["legacy"]:
                continue  # written before the history table: current status only
            for k, t in enumerate(a["times"]):
                prev = PIPELINE[k - 1].value if k else None
                history.append((a["id"], prev, PIPELINE[k].value, t))
            if a["status"] in ("rejected", "withdrawn"):
                last = a["times"][-1] + timedelta(hours=1)
                history.append((a["id"], PIPELINE[len(a["times"]) - 1].value, a["status"], last))
        await conn.executemany(
            "INSERT INTO application_history (application_id, from_status, to_status, at)"
            " VALUES ($1, $2, $3, $4)",
            history,
        )
    return apps


def brute_funnel(apps: list[dict[str, Any]]) -> dict[str, Any]:
    reached = [0] * 5
    days: list[list[float]] = [[] for _ in range(5)]
    for a in apps:
        depth = len(a["times"]) - 1
        if a["legacy"]:  # no history: only the current status says how far it got
            statuses = [s.value for s in PIPELINE]
            depth = statuses.index(a["status"]) if a["status"] in statuses else 0
        for k in range(depth + 1):
            reached[k] += 1
        if not a["legacy"]:
            for k in range(1, depth + 1):
                days[k].append((a["times"][k] - a["times"][k - 1]).total_seconds() / 86400)
    return {
        "total": len(apps), "reached": reached,
        "rejected": sum(a["status"] == "rejected" for a in apps),
        "withdrawn": sum(a["status"] == "withdrawn" for a in apps),
        "median": [percentile(d, 0.5) for d in days], "p90": [percentile(d, 0.9) for d in days],
    }  # fmt: skip


@pytest.mark.parametrize("by", ["job", "company", "window"])
async def test_funnel_matches_brute_force(data: tuple[asyncpg.Pool, list[Row]], by: str) -> None:
    pool, rows = data
    apps = await _funnel_data(pool, random.Random(3))
    company = {r.id: r.company_id for r in rows}
    start, end = T0 + timedelta(days=5), T0 + timedelta(days=20)
    if by == "job":
        q, chosen = FunnelQuery(job_id=2), [a for a in apps if a["job"] == 2]
    elif by == "company":
        q, chosen = FunnelQuery(company_id=3), [a for a in apps if company[a["job"]] == 3]
    else:
        q = FunnelQuery(company_id=3, start=start, end=end)
        chosen = [a for a in apps if company[a["job"]] == 3 and start <= a["applied"] < end]
    got = await PgAnalytics(pool).funnel(q)
    want = brute_funnel(chosen)
    assert (got.total, got.rejected, got.withdrawn) == (
        want["total"], want["rejected"], want["withdrawn"],
    )  # fmt: skip
    assert [s.count for s in got.stages] == want["reached"]
    for k, stage in enumerate(got.stages):
        before = want["reached"][k - 1] if k else 0
        assert _close(stage.conversion, want["reached"][k] / before if before else None)
        assert _close(stage.median_days, want["median"][k])
        assert _close(stage.p90_days, want["p90"][k])


async def test_funnel_of_a_job_without_applications(
    data: tuple[asyncpg.Pool, list[Row]],
) -> None:
    pool, _ = data
    got = await PgAnalytics(pool).funnel(FunnelQuery(job_id=299))
    assert got.total == 0
    assert [(s.count, s.conversion, s.median_days) for s in got.stages] == [(0, None, None)] * 5


async def test_funnel_scope_hides_other_companies(data: tuple[asyncpg.Pool, list[Row]]) -> None:
    pool, rows = data
    await _funnel_data(pool, random.Random(3))
    other = next(r.id for r in rows if r.company_id != 1 and r.id <= 12)
    got = await PgAnalytics(pool).funnel(FunnelQuery(job_id=other, scope_company_id=1))
    assert got.total == 0
