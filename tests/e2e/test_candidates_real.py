"""Candidate profile mutations over HTTP through the real app and its real stores
(SecantusDB for the profiles and their Mongo outbox).

Each test asserts the response body, the profile document and the outbox documents the
write left (or did not leave). Every profile here is created by the test under an email
domain of this module's own, and deleted afterwards with its outbox documents.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from datasources.mongo.bootstrap import CANDIDATES, OUTBOX
from domain.viewer import Viewer
from schema.ids import from_global_id
from tests.e2e.conftest import Seeded
from tests.e2e.real_writes import (
    ADMIN,
    ANALYST,
    USER_ERROR,
    Real,
    candidate,
    gid,
    real_app,
    recruiter,
)

pytestmark = pytest.mark.e2e
DOMAIN = f"w7-{uuid.uuid4().hex[:8]}.test"
PROFILE = """id name email phone headline summary location { city country }
    skills { name level years } experience { company title start end highlights }
    education { institution degree field startYear endYear } links { kind url }
    preferences { remote locations employmentTypes salaryExpectation { amount currency } }
    attributes yearsExperience version"""
RESULT = f"__typename ... on CandidatePayload {{ candidate {{ {PROFILE} }} }} {USER_ERROR}"
CREATE = f"""mutation($input: CreateCandidateInput!) {{
    createCandidate(input: $input) {{ {RESULT} }} }}"""
UPDATE = f"""mutation($input: UpdateCandidateProfileInput!) {{
    updateCandidateProfile(input: $input) {{ {RESULT} }} }}"""
READ = f"query($id: ID!) {{ candidate(id: $id) {{ {PROFILE} }} }}"


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@{DOMAIN}"


def new_profile(**over: Any) -> dict[str, Any]:
    """A CreateCandidateInput with every nested part filled in."""
    return {
        "name": "  Asha Rao ", "email": email("Asha.Rao").upper(), "phone": "+91 20 5550 1234",
        "headline": "Backend Engineer", "summary": "Builds data-heavy services.",
        "location": {"city": "Pune", "country": "IN"},
        "skills": [{"name": "python", "level": 4, "years": 5.0},
                   {"name": "sql", "level": 3, "years": 4.5}],
        "experience": [
            {"company": "Acme", "title": "Engineer", "start": "2015-03-01T00:00:00+00:00",
             "end": "2019-03-01T00:00:00+00:00", "highlights": ["Cut p99 by half"]},
            {"company": "Globex", "title": "Senior Engineer",
             "start": "2019-03-01T00:00:00+00:00", "end": "2022-09-01T00:00:00+00:00"},
        ],
        "education": [{"institution": "COEP", "degree": "BTech", "field": "CS",
                       "startYear": 2010, "endYear": 2014}],
        "links": [{"kind": "github", "url": "https://github.com/asha"}],
        "preferences": {"remote": True, "locations": ["Pune", "Remote"],
                        "salaryExpectation": {"amount": 4_000_000, "currency": "INR"},
                        "employmentTypes": ["FULL_TIME", "CONTRACT"]},
        "attributes": {"notice_period_days": 30, "languages": ["en", "hi"],
                       "visa": {"status": "citizen", "countries": ["IN"]}},
        **over,
    }  # fmt: skip


@dataclass
class Store:
    """The profiles and outbox of the seeded Mongo database."""

    db: Any

    async def profile(self, candidate_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.db[CANDIDATES].find_one(
            {"_id": ObjectId(candidate_id)}
        )
        return doc

    async def events(self, candidate_id: str) -> list[dict[str, Any]]:
        """The candidate's outbox documents, oldest first."""
        cursor = self.db[OUTBOX].find({"aggregate_id": candidate_id}).sort("_id", 1)
        docs: list[dict[str, Any]] = await cursor.to_list()
        return docs

    async def outbox_size(self) -> int:
        count: int = await self.db[OUTBOX].count_documents({})
        return count

    async def cleanup(self) -> None:
        mine = {"email": {"$regex": f"@{DOMAIN.replace('.', '[.]')}$"}}
        ids = [str(d["_id"]) async for d in self.db[CANDIDATES].find(mine, {"_id": 1})]
        await self.db[OUTBOX].delete_many({"aggregate_id": {"$in": ids}})
        await self.db[CANDIDATES].delete_many(mine)


@pytest.fixture(scope="module")
async def real(seeded: Seeded) -> AsyncIterator[Real]:
    async with real_app(seeded, "mut-cands") as app:
        yield app


@pytest.fixture(scope="module")
async def store(
    seeded: Seeded, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> AsyncIterator[Store]:
    s = Store(mongo_client[seeded.mongo_db])
    yield s
    await s.cleanup()


async def create(real: Real, **over: Any) -> dict[str, Any]:
    """A new profile (created by ADMIN): its GraphQL `candidate`."""
    created = await real.mutate(CREATE, ADMIN, input=new_profile(**over))
    assert created["__typename"] == "CandidatePayload", created
    profile: dict[str, Any] = created["candidate"]
    return profile


def key(profile: dict[str, Any]) -> str:
    """The Mongo id of a GraphQL candidate."""
    return from_global_id(profile["id"], "Candidate")


def event_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The parts of an outbox document a test compares."""
    return {k: doc[k] for k in ("event_type", "aggregate_type", "aggregate_id", "payload",
                                "published_at", "attempts")}  # fmt: skip


async def test_an_admin_creates_a_profile_with_every_part(real: Real, store: Store) -> None:
    given = new_profile()
    profile = await create(real, **given)
    me = key(profile)
    assert {k: v for k, v in profile.items() if k != "id"} == {
        "name": "Asha Rao", "email": given["email"].lower(), "phone": given["phone"],
        "headline": "Backend Engineer", "summary": given["summary"],
        "location": {"city": "Pune", "country": "IN"}, "skills": given["skills"],
        "experience": [{**given["experience"][0]}, {**given["experience"][1], "highlights": []}],
        "education": given["education"], "links": given["links"],
        "preferences": given["preferences"], "attributes": given["attributes"],
        "yearsExperience": 7,  # 2015-03 .. 2022-09, in whole years
        "version": 1,
    }  # fmt: skip
    doc = await store.profile(me)
    assert doc is not None
    assert (doc["name"], doc["email"], doc["version"]) == ("Asha Rao", profile["email"], 1)
    assert doc["location"] == {"city": "Pune", "country": "IN"}
    assert doc["skills"] == given["skills"]
    assert [(e["company"], e["start"].year, e["end"].year) for e in doc["experience"]] == [
        ("Acme", 2015, 2019), ("Globex", 2019, 2022)]  # fmt: skip
    assert doc["education"] == [{"institution": "COEP", "degree": "BTech", "field": "CS",
                                 "start_year": 2010, "end_year": 2014}]  # fmt: skip
    assert doc["preferences"] == {
        "remote": True, "locations": ["Pune", "Remote"],
        "salary_expectation": {"amount": 4_000_000, "currency": "INR"},
        "employment_types": ["full_time", "contract"],
    }  # fmt: skip
    assert doc["attributes"] == given["attributes"]
    assert (doc["years_experience"], doc["search_terms"]) == (
        7, ["asha", "backend", "engineer", "rao"])  # fmt: skip
    (event,) = await store.events(me)
    assert event_of(event) == {
        "event_type": "CandidateCreated", "aggregate_type": "Candidate", "aggregate_id": me,
        "payload": {"candidate_id": me, "version": 1, "actor": "user:mut-admin", "changed": [
            "name", "email", "phone", "headline", "summary", "location", "skills",
            "experience", "education", "links", "preferences", "attributes"]},
        "published_at": None, "attempts": 0,
    }  # fmt: skip
    read = await real.ask(READ, ADMIN, id=profile["id"])
    assert read["candidate"] == profile


async def test_a_taken_email_is_a_conflict_and_writes_nothing(real: Real, store: Store) -> None:
    first = await create(real)
    before = await store.outbox_size()
    again = await real.mutate(CREATE, ADMIN, input=new_profile(email=f" {first['email'].title()}"))
    assert (again["__typename"], again["code"]) == ("Conflict", "CONFLICT")
    assert "email" in again["message"]
    assert await store.db[CANDIDATES].count_documents({"email": first["email"]}) == 1
    second = await create(real)
    taken = await real.mutate(
        UPDATE, ADMIN, input={"id": second["id"], "set": {"email": first["email"]}}
    )
    assert (taken["__typename"], taken["code"]) == ("Conflict", "CONFLICT")
    assert (await store.profile(key(second)))["email"] == second["email"]  # type: ignore[index]
    assert await store.outbox_size() == before + 1  # the second profile's CandidateCreated


async def _patched(
    real: Real, store: Store, profile: dict[str, Any], viewer: Viewer = ADMIN, **patch: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Apply one patch at the profile's version: (the new candidate, its document, the
    payload of the one outbox document the patch added), after checking the version
    moved on by one and the ADMIN's `candidate` query shows the new values."""
    me = key(profile)
    events = len(await store.events(me))
    given = {"id": profile["id"], "expectedVersion": profile["version"], **patch}
    updated = await real.mutate(UPDATE, viewer, input=given)
    assert updated["__typename"] == "CandidatePayload", updated
    after: dict[str, Any] = updated["candidate"]
    assert after["version"] == profile["version"] + 1
    assert (await real.ask(READ, ADMIN, id=profile["id"]))["candidate"] == after
    doc = await store.profile(me)
    assert doc is not None
    assert doc["version"] == after["version"]
    docs = await store.events(me)
    assert len(docs) == events + 1
    assert (docs[-1]["event_type"], docs[-1]["published_at"]) == ("CandidateProfileUpdated", None)
    assert docs[-1]["payload"]["version"] == after["version"]
    return after, doc, docs[-1]["payload"]


async def test_each_part_of_a_patch(real: Real, store: Store) -> None:
    profile = await create(real)
    # The ADMIN's read is cached (entity cache) before every patch below.
    assert (await real.ask(READ, ADMIN, id=profile["id"]))["candidate"] == profile

    new_email = email("asha.k")
    lisbon = {"city": "Lisbon", "country": "PT"}
    fields = {"name": " Asha K. Rao ", "email": new_email.upper(), "phone": None,
              "headline": "Staff Engineer", "location": lisbon}  # fmt: skip
    after, doc, event = await _patched(real, store, profile, set=fields)
    expected = {**profile, "name": "Asha K. Rao", "email": new_email.lower(), "phone": None,
                "headline": "Staff Engineer", "location": lisbon, "version": 2}  # fmt: skip
    assert after == expected
    assert (doc["name"], doc["email"], doc["phone"]) == ("Asha K. Rao", new_email.lower(), None)
    assert doc["location"] == lisbon
    assert doc["search_terms"] == ["asha", "engineer", "k", "rao", "staff"]
    assert event == {"candidate_id": key(profile), "version": 2, "actor": "user:mut-admin",
                     "changed": ["name", "email", "phone", "headline", "location"]}  # fmt: skip

    after, doc, event = await _patched(
        real, store, after,
        skillsUpsert=[{"name": "sql", "level": 5, "years": 6}, {"name": "go", "level": 2,
                                                                "years": 1}],
        skillsRemove=["python"],
    )  # fmt: skip
    skills = [{"name": "sql", "level": 5, "years": 6.0}, {"name": "go", "level": 2, "years": 1.0}]
    assert after == {**expected, "skills": skills, "version": 3}
    assert doc["skills"] == skills
    assert event["changed"] == ["skills"]

    experience = [{"company": "Initech", "title": "Lead", "start": "2010-01-01T00:00:00+00:00",
                   "end": "2013-07-01T00:00:00+00:00", "highlights": ["Led 6"]}]  # fmt: skip
    after, doc, event = await _patched(real, store, after, experience=experience)
    expected = {**expected, "skills": skills, "experience": experience, "yearsExperience": 3}
    assert after == {**expected, "version": 4}
    assert [(e["company"], e["title"]) for e in doc["experience"]] == [("Initech", "Lead")]
    assert doc["years_experience"] == 3
    assert event["changed"] == ["experience"]

    preferences = {"remote": False, "locations": ["Lisbon"], "salaryExpectation": None,
                   "employmentTypes": ["PART_TIME"]}  # fmt: skip
    after, doc, event = await _patched(real, store, after, preferences=preferences)
    expected = {**expected, "preferences": preferences}
    assert after == {**expected, "version": 5}
    assert doc["preferences"] == {"remote": False, "locations": ["Lisbon"],
                                  "salary_expectation": None,
                                  "employment_types": ["part_time"]}  # fmt: skip
    assert event["changed"] == ["preferences"]

    nested = {"status": "sponsored", "countries": ["PT", "DE"], "since": {"year": 2024}}
    after, doc, event = await _patched(
        real, store, after, attributesSet={"visa": nested, "github_stars": 120},
        attributesUnset=["languages"],
    )  # fmt: skip
    attributes = {"notice_period_days": 30, "visa": nested, "github_stars": 120}
    assert after == {**expected, "attributes": attributes, "version": 6}
    assert doc["attributes"] == attributes
    assert event["changed"] == ["attributes"]
    assert (doc["name"], doc["skills"], doc["years_experience"]) == ("Asha K. Rao", skills, 3)


async def test_a_stale_expected_version_is_a_conflict(real: Real, store: Store) -> None:
    profile = await create(real)
    me = key(profile)
    first = {"id": profile["id"], "expectedVersion": 1, "set": {"headline": "First"}}
    assert (await real.mutate(UPDATE, ADMIN, input=first))["candidate"]["version"] == 2
    doc, events = await store.profile(me), await store.events(me)

    stale = {"id": profile["id"], "expectedVersion": 1, "set": {"headline": "Second"}}
    refused = await real.mutate(UPDATE, ADMIN, input=stale)
    assert (refused["__typename"], refused["code"]) == ("Conflict", "CONFLICT")
    assert "expected 1, current 2" in refused["message"]
    ahead = await real.mutate(UPDATE, ADMIN, input={**stale, "expectedVersion": 7})
    assert ahead["code"] == "CONFLICT"
    assert await store.profile(me) == doc
    assert await store.events(me) == events
    read = (await real.ask(READ, ADMIN, id=profile["id"]))["candidate"]
    assert (read["headline"], read["version"]) == ("First", 2)

    # Without expectedVersion the last writer wins.
    blind = {"id": profile["id"], "set": {"headline": "Third"}}
    assert (await real.mutate(UPDATE, ADMIN, input=blind))["candidate"]["version"] == 3


def _paths(result: dict[str, Any]) -> list[list[str]]:
    assert (result["__typename"], result["code"]) == ("InvalidInput", "BAD_USER_INPUT"), result
    return sorted(e["path"] for e in result["fieldErrors"])


async def test_invalid_input_names_each_bad_field_and_writes_nothing(
    real: Real, store: Store
) -> None:
    profile = await create(real, attributes={"blob": "x" * 9_000})
    me = key(profile)
    doc, outbox = await store.profile(me), await store.outbox_size()
    bad_create = await real.mutate(CREATE, ADMIN, input=new_profile(
        email="not-an-email", attributes={"$where": "1", "ok": {"a.b": 1}}))  # fmt: skip
    assert _paths(bad_create) == [
        ["input", "attributes", "$where"], ["input", "attributes", "ok", "a.b"],
        ["input", "email"]]  # fmt: skip
    not_object = await real.mutate(CREATE, ADMIN, input=new_profile(attributes=[1]))
    assert _paths(not_object) == [["input", "attributes"]]

    async def update(**patch: Any) -> list[list[str]]:
        result = await real.mutate(UPDATE, ADMIN, input={"id": profile["id"], **patch})
        return _paths(result)

    assert await update(set={"email": "nope@", "name": " "}) == [
        ["input", "set", "email"], ["input", "set", "name"]]  # fmt: skip
    assert await update(attributesSet={"$set": {"version": 99}}) == [
        ["input", "attributesSet", "$set"]]  # fmt: skip
    assert await update(attributesSet={"visa": {"$gt": ""}}, attributesUnset=["$x"]) == [
        ["input", "attributesSet", "visa", "$gt"], ["input", "attributesUnset", "$x"]]  # fmt: skip
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    assert await update(attributesSet=deep) == [
        ["input", "attributesSet", "a", "b", "c", "d", "e"]]  # fmt: skip
    many = {f"k{i}": i for i in range(65)}
    assert await update(attributesSet=many) == [["input", "attributesSet"]]
    # 9 KB stored + 9 KB more is over the 16 KB bound only once merged with the profile.
    assert await update(attributesSet={"blob2": "y" * 9_000}) == [["input", "attributesSet"]]
    assert await update(skillsUpsert=[{"name": "go", "level": 9, "years": 1}]) == [
        ["input", "skillsUpsert", "0", "level"]]  # fmt: skip
    assert await update() == [["input"]]  # nothing to change
    wrong_type = await real.mutate(
        UPDATE, ADMIN, input={"id": gid("Job", 1), "set": {"headline": "x"}}
    )
    assert _paths(wrong_type) == [["input", "id"]]
    assert await store.profile(me) == doc
    assert await store.outbox_size() == outbox


def _code(result: dict[str, Any]) -> tuple[str, str]:
    return result["__typename"], result.get("code", "")


async def test_who_may_create_and_update_profiles(real: Real, store: Store) -> None:
    mine, theirs = await create(real), await create(real)
    me = candidate(key(mine))
    own = await real.mutate(
        UPDATE, me, input={"id": mine["id"], "expectedVersion": 1, "set": {"summary": "Mine"}}
    )
    assert own["__typename"] == "CandidatePayload", own
    assert (own["candidate"]["summary"], own["candidate"]["email"]) == ("Mine", mine["email"])
    (_, event) = await store.events(key(mine))
    assert event["payload"]["actor"] == f"user:mut-candidate-{key(mine)}"

    company = await real.db.fetchval("SELECT min(id) FROM companies")
    viewers = {"another candidate": me, "recruiter": recruiter(company), "analyst": ANALYST,
               "public": None}  # fmt: skip
    doc, outbox = await store.profile(key(theirs)), await store.outbox_size()
    patch = {"id": theirs["id"], "set": {"summary": "Not yours"}}
    refused = {who: _code(await real.mutate(UPDATE, v, input=patch)) for who, v in viewers.items()}
    assert refused == dict.fromkeys(viewers, ("Forbidden", "FORBIDDEN"))
    creators = {**viewers, "candidate": me}
    created = {
        who: _code(await real.mutate(CREATE, v, input=new_profile()))
        for who, v in creators.items()
    }  # fmt: skip
    assert created == dict.fromkeys(creators, ("Forbidden", "FORBIDDEN"))
    assert await store.profile(key(theirs)) == doc
    assert await store.outbox_size() == outbox


async def test_an_unknown_profile_is_not_found(real: Real, store: Store) -> None:
    outbox = await store.outbox_size()
    for missing in (str(ObjectId()), "not-an-object-id"):
        patch = {"id": gid("Candidate", missing), "expectedVersion": 1, "set": {"headline": "x"}}
        assert _code(await real.mutate(UPDATE, ADMIN, input=patch)) == ("NotFound", "NOT_FOUND")
        # The candidate of that id is allowed to try, and finds nothing either.
        own = await real.mutate(UPDATE, candidate(missing), input=patch)
        assert _code(own) == ("NotFound", "NOT_FOUND")
    assert await store.outbox_size() == outbox
