"""The cheap skeleton of a dataset, fixed before any row is written.

Applications reference jobs and candidates that may not be written yet (the two stores are
filled concurrently), so what they need is decided up front and kept small:
- `JobPlan` per job: employer, family, seniority, country, status and dates;
- `CandidateIds`: each candidate's ObjectId and creation time as a pure function of its
  index, plus its family and country in two byte arrays (1 byte each per candidate).
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from bson import ObjectId

from datasources.seed.companies import CompanyDirectory
from datasources.seed.geography import COUNTRIES, COUNTRY_WEIGHTS
from datasources.seed.scale import ANCHOR
from datasources.seed.vocabulary import FAMILY_WEIGHTS, SENIORITY_WEIGHTS

_SENIORITIES = tuple(SENIORITY_WEIGHTS)
_SENIORITY_CUM = tuple(accumulate(SENIORITY_WEIGHTS.values()))
_FAMILY_CUM = tuple(accumulate(FAMILY_WEIGHTS))
_COUNTRY_CUM = tuple(accumulate(COUNTRY_WEIGHTS))
_WINDOW = timedelta(days=180)  # jobs are posted within this window before ANCHOR
_CANDIDATE_SPAN = 3 * 365 * 86_400  # candidate profiles were created over ~3 years ...
_CANDIDATE_END = int((ANCHOR - timedelta(days=1)).timestamp())  # ... until a day before it
_CANDIDATE_START = _CANDIDATE_END - _CANDIDATE_SPAN


@dataclass(frozen=True, slots=True)
class JobPlan:
    id: int
    company_id: int
    family: int  # index into vocabulary.FAMILIES
    seniority: str
    country: str
    status: str
    posted_at: datetime | None
    closes_at: datetime | None  # applications arrive before this (None for drafts)


def _status_dates(rng: random.Random) -> tuple[str, datetime | None, datetime | None]:
    roll = rng.random()
    if roll < 0.08:
        return "draft", None, None
    if roll < 0.20:  # closed: posted at least a month ago, open for one to eight weeks
        posted = ANCHOR - timedelta(seconds=rng.randint(30 * 86_400, int(_WINDOW.total_seconds())))
        closes = min(posted + timedelta(days=rng.randint(7, 56)), ANCHOR - timedelta(hours=1))
        return "closed", posted, closes
    posted = ANCHOR - timedelta(seconds=rng.randint(3_600, int(_WINDOW.total_seconds())))
    return "open", posted, ANCHOR - timedelta(minutes=1)


def plan_jobs(
    seed: int, count: int, companies: CompanyDirectory, fixed: tuple[JobPlan, ...]
) -> list[JobPlan]:
    """`fixed` plans first, then generated ones up to `count` jobs in all."""
    rng = random.Random(f"{seed}/job-plan")
    hiring_cum = tuple(accumulate(companies.hiring))
    company_ids = range(1, len(companies.rows) + 1)
    plans = list(fixed)
    for job_id in range(len(fixed) + 1, count + 1):
        company_id = rng.choices(company_ids, cum_weights=hiring_cum)[0]
        country = companies.countries[company_id - 1]
        if rng.random() < 0.3:
            country = rng.choices(COUNTRIES, cum_weights=_COUNTRY_CUM)[0].code
        status, posted, closes = _status_dates(rng)
        plans.append(
            JobPlan(
                id=job_id,
                company_id=company_id,
                family=rng.choices(range(len(FAMILY_WEIGHTS)), cum_weights=_FAMILY_CUM)[0],
                seniority=rng.choices(_SENIORITIES, cum_weights=_SENIORITY_CUM)[0],
                country=country,
                status=status,
                posted_at=posted,
                closes_at=closes,
            )
        )
    return plans


class CandidateIds:
    """Identity, creation time, family and country of candidate `i` (0-based), by index.

    An ObjectId is laid out like a driver-made one: a 4-byte creation timestamp, 5 random
    bytes drawn once from the seeded RNG, and a 3-byte counter starting at a seeded
    offset. Counters differ for fewer than 2**24 candidates, so ids are certainly unique;
    timestamps never decrease with the index, so `_id` order is creation order.
    """

    def __init__(self, seed: int, count: int) -> None:
        rng = random.Random(f"{seed}/candidate-ids")
        self.count = count
        self._process = rng.randbytes(5)
        self._counter0 = rng.getrandbits(24)
        self._jitter_key = rng.getrandbits(32)
        families = rng.choices(range(len(FAMILY_WEIGHTS)), cum_weights=_FAMILY_CUM, k=count)
        countries = rng.choices(range(len(COUNTRIES)), cum_weights=_COUNTRY_CUM, k=count)
        self.families = bytes(families)
        self.countries = bytes(countries)

    def timestamp(self, i: int) -> int:
        """Creation time (epoch seconds): in slot i of [START, END), jittered inside it."""
        jitter = (((i + 1) * 0x9E3779B1) ^ self._jitter_key) & 0xFFFFFFFF
        slot = i * _CANDIDATE_SPAN + (jitter * _CANDIDATE_SPAN >> 32)
        return _CANDIDATE_START + slot // max(self.count, 1)

    def object_id(self, i: int) -> ObjectId:
        counter = (self._counter0 + i) & 0xFFFFFF
        raw = self.timestamp(i).to_bytes(4, "big") + self._process + counter.to_bytes(3, "big")
        return ObjectId(raw)

    def created_before(self, moment: datetime) -> int:
        """How many candidates were created strictly before `moment` (a prefix of indices)."""
        moment_ts = int(moment.timestamp())
        # timestamp(i) lies in slot i of the span, so the answer is within one of `estimate`
        estimate = (moment_ts - _CANDIDATE_START) * self.count // _CANDIDATE_SPAN
        low = min(max(estimate - 1, 0), self.count)
        high = min(max(estimate + 2, 0), self.count)
        return bisect_left(range(self.count), moment_ts, low, high, key=self.timestamp)

    def pools(self) -> tuple[dict[tuple[int, int], array[int]], dict[int, array[int]]]:
        """Sorted candidate indices per (family, country) and per family."""
        by_pair: dict[tuple[int, int], array[int]] = {}
        by_family: dict[int, array[int]] = {}
        for i, (fam, country) in enumerate(zip(self.families, self.countries, strict=True)):
            by_pair.setdefault((fam, country), array("i")).append(i)
            by_family.setdefault(fam, array("i")).append(i)
        return by_pair, by_family
