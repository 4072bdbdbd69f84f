"""Application rows: who applied to which open or closed job, how far they got, and when.

- Counts per job are skewed: a log-normal popularity times seniority and time-open
  factors, so a few jobs draw many applicants and most draw a handful; the total is exact.
- Applicants mostly share the job's role family (and often its country).
- A candidate applies to a job at most once; only candidates created before the job
  closed can apply; `applied_at` lies between max(posted_at, candidate created_at) and
  the job's close (or ANCHOR) and skews early; `updated_at` follows the status reached.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from datasources.seed.geography import COUNTRIES
from datasources.seed.plan import CandidateIds, JobPlan
from datasources.seed.rows import ApplicationRow
from datasources.seed.scale import ANCHOR

STATUSES = ("applied", "screening", "interview", "offer", "hired", "rejected", "withdrawn")
_OPEN_CUM = tuple(accumulate((36, 24, 12, 3, 2, 17, 6)))
_CLOSED_CUM = tuple(accumulate((3, 5, 8, 2, 7, 65, 10)))
# (min, max) days from applying to the last status change, per status
_STAGE_DAYS = ((0, 0), (1, 7), (5, 21), (14, 35), (20, 45), (1, 30), (1, 20))
SOURCES = ("direct", "linkedin", "job_board", "referral", "agency")
_SOURCE_CUM = tuple(accumulate((30, 30, 20, 12, 8)))
_SENIORITY_DRAW = {
    "intern": 1.5, "junior": 1.4, "mid": 1.2, "senior": 1.0, "lead": 0.6, "principal": 0.4,
}  # fmt: skip
_ANCHOR_TS = int(ANCHOR.timestamp())
_DAY = 86_400
_MARGIN = timedelta(hours=1)  # an applicant's profile predates the job's close by this much


def _popularity(rng: random.Random, plan: JobPlan, fixed: int) -> float:
    if plan.posted_at is None or plan.closes_at is None:
        return 0.0
    days_open = (plan.closes_at - plan.posted_at).days
    weight = rng.lognormvariate(0.0, 1.0) * _SENIORITY_DRAW[plan.seniority]
    weight *= 0.1 + min(days_open, 45) / 45
    return weight * (3.0 if plan.id <= fixed else 1.0)


def allocate(
    rng: random.Random, plans: Sequence[JobPlan], ids: CandidateIds, total: int, fixed: int
) -> list[int]:
    """Applicants per job (same order as `plans`), summing to exactly `total`."""
    weights = [_popularity(rng, p, fixed) for p in plans]
    caps = [
        ids.created_before(p.closes_at - _MARGIN) if w and p.closes_at else 0
        for p, w in zip(plans, weights, strict=True)
    ]
    if sum(caps) < total:
        raise ValueError(f"scale asks for {total} applications but only {sum(caps)} fit")
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    extra = rng.choices(range(len(plans)), weights, k=total - sum(counts))
    for j in extra:
        counts[j] += 1
    overflow = 0
    for j, cap in enumerate(caps):
        if counts[j] > cap:
            overflow, counts[j] = overflow + counts[j] - cap, cap
    for j, cap in enumerate(caps):  # rare: a popular job ran out of candidates
        moved = min(overflow, cap - counts[j])
        counts[j] += moved
        overflow -= moved
    return counts


def _applicants(
    rng: random.Random, k: int, limit: int, near: array[int], family: array[int]
) -> list[int]:
    """`k` distinct candidate indices below `limit`: same family and country, same family,
    or anyone, in roughly 55/30/15 proportions."""
    n_near, n_family = bisect_left(near, limit), bisect_left(family, limit)
    chosen: dict[int, None] = {}
    for _ in range(4 * k + 16):
        if len(chosen) == k:
            return list(chosen)
        roll = rng.random()
        if roll < 0.55 and n_near:
            chosen[near[int(rng.random() * n_near)]] = None
        elif roll < 0.85 and n_family:
            chosen[family[int(rng.random() * n_family)]] = None
        else:
            chosen[int(rng.random() * limit)] = None
    start = rng.randrange(limit)  # nearly everyone already applied: take the next free ones
    for step in range(limit):
        if len(chosen) == k:
            break
        chosen.setdefault((start + step) % limit, None)
    return list(chosen)


def _status(rng: random.Random, closed: bool, age_days: float) -> int:
    if not closed and age_days < 3 and rng.random() < 0.8:
        return 0  # too recent to have been looked at
    cum = _CLOSED_CUM if closed else _OPEN_CUM
    return bisect_right(cum, rng.random() * cum[-1])


def application_rows(
    seed: int, plans: Sequence[JobPlan], ids: CandidateIds, total: int, fixed: int
) -> Iterator[ApplicationRow]:
    """`total` rows with ids 1..total, grouped by job in job-id order."""
    rng = random.Random(f"{seed}/applications")
    counts = allocate(rng, plans, ids, total, fixed)
    by_pair, by_family = ids.pools()
    country_index = {c.code: n for n, c in enumerate(COUNTRIES)}
    empty: array[int] = array("i")
    app_id = 0
    for plan, k in zip(plans, counts, strict=True):
        if not k or plan.posted_at is None or plan.closes_at is None:
            continue
        limit = ids.created_before(plan.closes_at - _MARGIN)
        near = by_pair.get((plan.family, country_index[plan.country]), empty)
        posted, closes = int(plan.posted_at.timestamp()), int(plan.closes_at.timestamp())
        for c in _applicants(rng, k, limit, near, by_family.get(plan.family, empty)):
            low = max(posted, ids.timestamp(c)) + 60  # strictly after both, by a minute
            applied = low + int((closes - low) * rng.random() ** 2)
            status = _status(rng, plan.status == "closed", (_ANCHOR_TS - applied) / _DAY)
            lo_days, hi_days = _STAGE_DAYS[status]
            changed = applied + rng.randint(lo_days * _DAY, hi_days * _DAY + 3_600)
            app_id += 1
            yield ApplicationRow(
                id=app_id,
                job_id=plan.id,
                candidate_id=str(ids.object_id(c)),
                status=STATUSES[status],
                source=SOURCES[bisect_right(_SOURCE_CUM, rng.random() * _SOURCE_CUM[-1])],
                applied_at=datetime.fromtimestamp(applied, UTC),
                updated_at=datetime.fromtimestamp(min(changed, _ANCHOR_TS), UTC),
            )
