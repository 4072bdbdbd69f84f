"""Seed generation, without any store: determinism, constraints, shapes, references."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import bson
import pytest
from bson import ObjectId

from datasources.mongo.bootstrap import CANDIDATE_SCHEMA
from datasources.seed import ANCHOR, SCALES, Dataset, Scale, SeedTargetNotEmpty
from datasources.seed.geography import BY_CODE
from datasources.seed.jobs import salary_band
from datasources.seed.plan import CandidateIds
from datasources.seed.rows import ApplicationRow, CompanyRow, JobRow
from datasources.seed.run import ensure_empty
from datasources.seed.vocabulary import FAMILIES, SKILLS
from domain import enums

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# fmt: off
CANDIDATE_KEYS = {
    "_id", "name", "email", "phone", "headline", "summary", "location", "skills",
    "experience", "education", "links", "preferences", "attributes", "years_experience",
    "search_terms", "version", "created_at", "updated_at",
}
# fmt: on
BSON_PYTHON = dict(
    string=str, int=int, double=float, date=datetime, object=dict, array=list, null=type(None)
)


def values(enum: type[StrEnum]) -> set[str]:
    return {member.value for member in enum}


class Generated:
    def __init__(self, scale: Scale, seed: int) -> None:
        self.data = Dataset.build(scale, seed)
        self.companies: list[CompanyRow] = list(self.data.company_rows())
        self.jobs: list[JobRow] = list(self.data.job_rows())
        self.candidates: list[dict[str, Any]] = list(self.data.candidate_documents())
        self.applications: list[ApplicationRow] = list(self.data.application_rows())


@pytest.fixture(scope="module")
def small() -> Generated:
    return Generated(SCALES["small"], 42)


def _head(data: Dataset, n: int) -> tuple[list[Any], list[Any], list[bytes], list[Any]]:
    docs = data.candidate_documents()
    return (
        list(data.company_rows())[:n],
        [row for _, row in zip(range(n), data.job_rows(), strict=False)],
        [bson.encode(next(docs)) for _ in range(n)],
        [row for _, row in zip(range(n), data.application_rows(), strict=False)],
    )


def test_the_same_seed_gives_identical_records(small: Generated) -> None:
    again = _head(Dataset.build(SCALES["small"], 42), 200)
    first = (
        small.companies[:200],
        small.jobs[:200],
        [bson.encode(d) for d in small.candidates[:200]],
        small.applications[:200],
    )
    assert again == first


def test_another_seed_gives_different_records(small: Generated) -> None:
    companies, jobs, docs, applications = _head(Dataset.build(SCALES["small"], 43), 20)
    assert [c.name for c in companies[2:]] != [c.name for c in small.companies[2:20]]
    assert [j.title for j in jobs[2:]] != [j.title for j in small.jobs[2:20]]
    assert docs != [bson.encode(d) for d in small.candidates[:20]]
    assert [a.candidate_id for a in applications] != [
        a.candidate_id for a in small.applications[:20]
    ]


def test_a_scale_gives_exactly_its_counts(small: Generated) -> None:
    scale = SCALES["small"]
    assert len(small.companies) == scale.companies
    assert len(small.jobs) == scale.jobs
    assert len(small.candidates) == scale.candidates
    assert len(small.applications) == scale.applications
    assert [j.id for j in small.jobs] == list(range(1, scale.jobs + 1))
    assert [a.id for a in small.applications] == list(range(1, scale.applications + 1))


def test_companies_have_unique_valid_slugs(small: Generated) -> None:
    slugs = [c.slug for c in small.companies]
    assert len(set(slugs)) == len(slugs)
    assert all(SLUG.match(s) for s in slugs)
    assert len({c.name for c in small.companies}) == len(small.companies)
    for c in small.companies:
        assert c.size_band is None or c.size_band in values(enums.CompanySize)
        assert c.founded_year is None or 1800 <= c.founded_year <= ANCHOR.year
        assert c.created_at <= c.updated_at <= ANCHOR


def test_every_job_satisfies_the_check_constraints(small: Generated) -> None:
    company_ids = {c.id for c in small.companies}
    for j in small.jobs:
        assert j.company_id in company_ids
        assert j.status in values(enums.JobStatus)
        assert j.remote in values(enums.RemotePolicy)
        assert j.employment_type in values(enums.EmploymentType)
        assert j.seniority in values(enums.Seniority)
        assert j.country in BY_CODE
        if j.salary_min is not None and j.salary_max is not None:
            assert 0 <= j.salary_min <= j.salary_max
        assert (j.salary_min is None) == (j.salary_max is None) == (j.salary_currency is None)
        if j.experience_min is not None and j.experience_max is not None:
            assert 0 <= j.experience_min <= j.experience_max
        assert (j.status == "draft") == (j.posted_at is None)
        assert set(j.skills) <= set(SKILLS)
        assert len(set(j.skills)) == len(j.skills)
        assert j.created_at <= j.updated_at <= ANCHOR
        if j.posted_at is not None and j.id > 2:
            assert ANCHOR - timedelta(days=180) <= j.posted_at < ANCHOR


def test_job_mix_is_realistic(small: Generated) -> None:
    status = Counter(j.status for j in small.jobs)
    assert 0.72 < status["open"] / len(small.jobs) < 0.88
    assert 0.07 < status["closed"] / len(small.jobs) < 0.17
    assert 0.04 < status["draft"] / len(small.jobs) < 0.12
    assert 0.05 < sum(j.salary_min is None for j in small.jobs) / len(small.jobs) < 0.16
    assert all(j.salary_currency == "INR" for j in small.jobs if j.country == "IN" and j.salary_min)


def test_an_indian_mid_backend_band_is_in_lakh() -> None:
    backend = next(f for f in FAMILIES if f.name == "backend")
    low, high = salary_band(random.Random(1), BY_CODE["IN"], "mid", backend, "full_time")
    assert 1_300_000 <= low < high <= 3_200_000
    assert low % 50_000 == high % 50_000 == 0


def _conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The subset of $jsonSchema the bootstrap validator uses, over Python values."""
    kinds = schema.get("bsonType", ())
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    if kinds and not any(
        isinstance(value, BSON_PYTHON[k]) and not isinstance(value, bool) for k in kinds
    ):
        return False
    if isinstance(value, int) and "int" in kinds and not -(2**31) <= value < 2**31:
        return False
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        return False
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            return False
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return False
    if isinstance(value, dict):
        if any(key not in value for key in schema.get("required", ())):
            return False
        props = schema.get("properties", {})
        return all(_conforms(v, props[k]) for k, v in value.items() if k in props)
    if isinstance(value, list) and "items" in schema:
        return all(_conforms(item, schema["items"]) for item in value)
    return True


def test_candidates_pass_the_collection_validator(small: Generated) -> None:
    assert all(_conforms(doc, CANDIDATE_SCHEMA) for doc in small.candidates)
    assert not _conforms({**small.candidates[0], "version": 1.0}, CANDIDATE_SCHEMA)


def test_candidate_documents_have_the_agreed_shape(small: Generated) -> None:
    emails = [d["email"] for d in small.candidates]
    assert len(set(emails)) == len(emails)
    assert all(e == e.lower() for e in emails)
    assert len({d["_id"] for d in small.candidates}) == len(small.candidates)
    for d in small.candidates:
        assert set(d) == CANDIDATE_KEYS
        assert isinstance(d["_id"], ObjectId)
        assert d["_id"].generation_time == d["created_at"]
        assert d["created_at"].tzinfo is UTC
        assert d["created_at"] <= d["updated_at"] <= ANCHOR
        assert d["location"]["country"] in BY_CODE
        assert d["version"] == 1
        assert 3 <= len(d["skills"]) <= 12
        for s in d["skills"]:
            assert s["name"] in SKILLS
            assert type(s["level"]) is int
            assert 1 <= s["level"] <= 5
            assert type(s["years"]) is float
        assert type(d["years_experience"]) is int
        assert d["search_terms"] == sorted(set(d["search_terms"]))
        assert all(t == t.lower() for t in d["search_terms"])
        assert {link["kind"] for link in d["links"]} <= {"github", "linkedin", "website"}
        kinds = set(d["preferences"]["employment_types"])
        assert kinds <= values(enums.EmploymentType)
        for job in d["experience"]:
            assert job["end"] is None or job["start"] < job["end"]
    assert len({tuple(sorted(d["attributes"])) for d in small.candidates}) > 20


def test_applications_are_unique_and_reference_what_exists(small: Generated) -> None:
    jobs = {j.id: j for j in small.jobs}
    created = {str(d["_id"]): d["created_at"] for d in small.candidates}
    pairs = [(a.job_id, a.candidate_id) for a in small.applications]
    assert len(set(pairs)) == len(pairs)
    for a in small.applications:
        job = jobs[a.job_id]
        assert job.status in ("open", "closed")
        assert job.posted_at is not None
        assert re.fullmatch(r"[0-9a-f]{24}", a.candidate_id)
        assert a.candidate_id in created
        assert job.posted_at < a.applied_at < ANCHOR
        assert created[a.candidate_id] < a.applied_at
        assert a.applied_at <= a.updated_at <= ANCHOR
        if job.status == "closed":
            assert a.applied_at < job.updated_at  # a closed job's updated_at is its close
        assert a.status in values(enums.ApplicationStatus)
        assert a.source in {"direct", "referral", "linkedin", "job_board", "agency"}


def test_the_funnel_and_popularity_are_plausible(small: Generated) -> None:
    share = {
        k: v / len(small.applications)
        for k, v in Counter(a.status for a in small.applications).items()
    }
    assert share["applied"] + share["screening"] > 0.45
    assert 0.05 < share["interview"] < 0.2
    assert share["offer"] + share["hired"] < 0.1
    assert 0.15 < share["rejected"] + share["withdrawn"] < 0.4
    per_job = sorted(Counter(a.job_id for a in small.applications).values(), reverse=True)
    top_tenth = per_job[: max(1, len(per_job) // 10)]
    assert sum(top_tenth) > 0.3 * len(small.applications)


@pytest.fixture(scope="module")
def tiny() -> Generated:
    return Generated(Scale(companies=2, jobs=2, candidates=10, applications=5), 5)


@pytest.mark.parametrize("generated", ["small", "tiny"])
def test_the_real_postings_are_always_jobs_one_and_two(
    generated: str, request: pytest.FixtureRequest
) -> None:
    data: Generated = request.getfixturevalue(generated)
    companies = {c.id: c for c in data.companies}
    weekday, lead = data.jobs[:2]
    assert weekday.title == "Backend Engineer"
    assert companies[weekday.company_id].name == "Weekday AI"
    assert (weekday.city, weekday.country, weekday.location) == ("Mumbai", "IN", "Mumbai, India")
    assert weekday.employment_type == "full_time"
    assert weekday.status == "open"
    assert (weekday.experience_min, weekday.experience_max) == (3, 4)
    assert (weekday.salary_min, weekday.salary_max) == (1_500_000, 2_800_000)
    assert weekday.salary_currency == "INR"
    weekday_skills = ["python", "fastapi", "websockets", "rabbitmq", "kafka", "docker"]
    assert {*weekday_skills, "distributed systems"} <= set(weekday.skills)
    assert weekday.posted_at == datetime(2026, 4, 27, tzinfo=UTC)
    assert lead.title == "Lead Backend Engineer"
    assert lead.status == "open"
    assert companies[lead.company_id].slug == "undisclosed-employer"
    assert (lead.city, lead.country) == ("Mumbai", "IN")
    assert (lead.salary_min, lead.salary_max, lead.salary_currency) == (None,) * 3
    assert (lead.experience_min, lead.experience_max) == (10, None)
    assert lead.posted_at is not None
    lead_skills = ["python", "fastapi", "postgresql", "mongodb", "kafka", "kubernetes"]
    assert {*lead_skills, "system design"} <= set(lead.skills)


def test_candidate_ids_are_unique_ordered_and_searchable_by_time() -> None:
    ids = CandidateIds(3, 3_000)
    oids = [ids.object_id(i) for i in range(ids.count)]
    assert len(set(oids)) == ids.count
    times = [o.generation_time for o in oids]
    assert times == sorted(times)
    rng = random.Random(0)
    moments = [times[0], times[-1], *(rng.choice(times) for _ in range(10))]
    moments += [ANCHOR - timedelta(seconds=rng.randint(0, 4 * 365 * 86_400)) for _ in range(20)]
    for moment in moments:
        assert ids.created_before(moment) == sum(t < moment for t in times)


class _FakeConn:
    def __init__(self, rows: bool) -> None:
        self.rows = rows

    async def fetchval(self, sql: str) -> bool:
        return self.rows


class _FakeDb:
    def __init__(self, docs: bool) -> None:
        self.docs = docs

    def __getitem__(self, name: str) -> _FakeDb:
        return self

    async def find_one(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        return {"_id": 1} if self.docs else None


@pytest.mark.parametrize(("rows", "docs"), [(True, False), (False, True), (True, True)])
async def test_a_store_with_data_is_refused(rows: bool, docs: bool) -> None:
    with pytest.raises(SeedTargetNotEmpty, match="reset=True") as caught:
        await ensure_empty(_FakeConn(rows), _FakeDb(docs))  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


async def test_empty_stores_are_accepted() -> None:
    await ensure_empty(_FakeConn(False), _FakeDb(False))  # type: ignore[arg-type]
