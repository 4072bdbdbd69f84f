"""Mutations through the real schema over in-memory writers: candidate profiles,
applications and their history."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from strawberry import Schema

from domain.commands import Actor
from domain.enums import ApplicationStatus
from domain.viewer import Role, Viewer
from resolvers.context import Context
from schema import build_schema
from tests import factories as f
from tests.mutation_helpers import ERRORS, OTHER_RECRUITER, RECRUITER, gid, run
from tests.writers import ME, OTHER, board

CANDIDATE = Viewer(Role.CANDIDATE, user_id="u1", candidate_id=ME)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


CREATE_CANDIDATE = f"""mutation($input: CreateCandidateInput!) {{ createCandidate(input: $input) {{
  __typename ... on CandidatePayload {{ candidate {{ name email version location {{ city }}
    skills {{ name level }} preferences {{ remote salaryExpectation {{ amount }} }} attributes }} }}
  ... on InvalidInput {{ fieldErrors {{ path }} }} {ERRORS} }} }}"""
NEW_CANDIDATE = {
    "name": "Meera Shah", "email": "meera@x.io", "location": {"city": "Pune", "country": "IN"},
    "skills": [{"name": "go", "level": 4, "years": 3.5}],
    "preferences": {"remote": True, "salaryExpectation": {"amount": 100, "currency": "INR"}},
    "attributes": {"notice": 30},
}  # fmt: skip


async def test_an_admin_creates_a_profile(schema: Schema) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, f.ADMIN, CREATE_CANDIDATE, input=NEW_CANDIDATE)
    assert data["createCandidate"]["candidate"] == {
        "name": "Meera Shah", "email": "meera@x.io", "version": 1, "location": {"city": "Pune"},
        "skills": [{"name": "go", "level": 4}],
        "preferences": {"remote": True, "salaryExpectation": {"amount": 100}},
        "attributes": {"notice": 30},
    }  # fmt: skip
    [(type_name, [new_id])] = w.writes.invalidated
    assert type_name == "Candidate"
    assert new_id in ds.candidates.rows  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("viewer", "over", "typename"),
    [
        (CANDIDATE, {}, "Forbidden"),  # profiles are created by admins only
        (f.ADMIN, {"email": "ravi@x.io"}, "Conflict"),
        (f.ADMIN, {"attributes": [1, 2]}, "InvalidInput"),
    ],
)
async def test_create_candidate_errors(
    schema: Schema, viewer: Viewer, over: dict[str, Any], typename: str
) -> None:
    ds, _, _ = board()
    data = await run(schema, ds, viewer, CREATE_CANDIDATE, input={**NEW_CANDIDATE, **over})
    assert data["createCandidate"]["__typename"] == typename
    if typename == "InvalidInput":
        assert data["createCandidate"]["fieldErrors"] == [{"path": ["input", "attributes"]}]


UPDATE_PROFILE = f"""mutation($input: UpdateCandidateProfileInput!) {{
  updateCandidateProfile(input: $input) {{ __typename
    ... on CandidatePayload {{ candidate {{ id name headline version skills {{ name level }}
      attributes }} }}
    ... on InvalidInput {{ fieldErrors {{ path message }} }} {ERRORS} }} }}"""


async def test_a_candidate_patches_their_own_profile(schema: Schema) -> None:
    ds, w, _ = board()
    patch = {
        "id": gid("Candidate", ME), "expectedVersion": 1,
        "set": {"headline": "Staff Engineer", "location": {"city": "Goa"}},
        "skillsUpsert": [{"name": "python", "level": 5, "years": 6}, {"name": "rust", "level": 2,
                                                                      "years": 1}],
        "attributesSet": {"relocate": True}, "attributesUnset": ["notice_period_days"],
    }  # fmt: skip
    data = await run(schema, ds, CANDIDATE, UPDATE_PROFILE, input=patch)
    assert data["updateCandidateProfile"]["candidate"] == {
        "id": gid("Candidate", ME), "name": "Asha Rao", "headline": "Staff Engineer",
        "version": 2, "skills": [{"name": "python", "level": 5}, {"name": "rust", "level": 2}],
        "attributes": {"relocate": True},
    }  # fmt: skip
    assert ds.candidates.rows[ME].location.city == "Goa"  # type: ignore[attr-defined]
    assert w.writes.invalidated == [("Candidate", [ME])]


@pytest.mark.parametrize(
    ("viewer", "patch", "typename", "paths"),
    [
        (CANDIDATE, {"id": gid("Candidate", ME), "expectedVersion": 7}, "Conflict", None),
        (CANDIDATE, {"id": gid("Candidate", OTHER)}, "Forbidden", None),
        (RECRUITER, {"id": gid("Candidate", OTHER)}, "Forbidden", None),
        (f.ADMIN, {"id": gid("Candidate", f.cid(9))}, "NotFound", None),
        (f.ADMIN, {"id": gid("Job", 1), "set": {"name": None}, "attributesSet": "x"},
         "InvalidInput", [["input", "id"], ["input", "set", "name"], ["input", "attributesSet"]]),
    ],
)  # fmt: skip
async def test_update_profile_errors(
    schema: Schema, viewer: Viewer, patch: dict[str, Any], typename: str, paths: Any
) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, viewer, UPDATE_PROFILE, input=patch)
    result = data["updateCandidateProfile"]
    assert result["__typename"] == typename
    if paths is not None:
        assert [e["path"] for e in result["fieldErrors"]] == paths
    assert w.writes.invalidated == []


APPLY = f"""mutation($input: ApplyToJobInput!) {{ applyToJob(input: $input) {{ __typename
  ... on ApplicationPayload {{ application {{ id status job {{ title company {{ name }} }}
    candidate {{ name }} history {{ from to by note }} }} }}
  ... on AlreadyApplied {{ applicationId }}
  ... on InvalidInput {{ fieldErrors {{ path }} }} {ERRORS} }} }}"""


def application_input(job: int, candidate: str) -> dict[str, Any]:
    return {"jobId": gid("Job", job), "candidateId": gid("Candidate", candidate)}


async def test_a_candidate_applies_and_sees_the_job_and_the_first_history_row(
    schema: Schema,
) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, CANDIDATE, APPLY, input=application_input(1, ME))
    assert data["applyToJob"]["application"] == {
        "id": gid("Application", 3), "status": "APPLIED",
        "job": {"title": "Backend Engineer 1", "company": {"name": "Company 1"}},
        "candidate": {"name": "Asha Rao"},
        "history": [{"from": None, "to": "APPLIED", "by": "user:u1", "note": None}],
    }  # fmt: skip
    assert w.writes.invalidated == [("Application", [3]), ("Job", [1])]


@pytest.mark.parametrize(
    ("viewer", "job", "candidate", "typename"),
    [
        (CANDIDATE, 3, ME, "AlreadyApplied"),
        (CANDIDATE, 1, OTHER, "Forbidden"),  # only for themselves
        (RECRUITER, 1, ME, "Forbidden"),
        (f.ADMIN, 2, ME, "Conflict"),  # a draft
        (f.ADMIN, 5, ME, "Conflict"),  # closed
        (CANDIDATE, 5, ME, "Conflict"),  # a closed job is not hidden from an applicant
        (CANDIDATE, 2, ME, "NotFound"),  # a draft is
        (f.ADMIN, 99, ME, "NotFound"),
        (f.ADMIN, 1, f.cid(9), "NotFound"),  # no such profile in Mongo
    ],
)
async def test_apply_errors(
    schema: Schema, viewer: Viewer, job: int, candidate: str, typename: str
) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, viewer, APPLY, input=application_input(job, candidate))
    result = data["applyToJob"]
    assert result["__typename"] == typename
    if typename == "AlreadyApplied":  # only the writer knows (one per candidate and job)
        assert (result["code"], result["applicationId"]) == (
            "ALREADY_APPLIED",
            gid("Application", 2),
        )
    else:  # refused before the write: permissions, the profile in Mongo, the job's status
        assert w.writes.calls == []
    assert w.writes.invalidated == []


async def test_bad_global_ids_are_field_errors(schema: Schema) -> None:
    ds, w, _ = board()
    bad = {"jobId": gid("Company", 1), "candidateId": "not base64!"}
    data = await run(schema, ds, CANDIDATE, APPLY, input=bad)
    result = data["applyToJob"]
    assert (result["__typename"], result["code"]) == ("InvalidInput", "BAD_USER_INPUT")
    assert result["fieldErrors"] == [
        {"path": ["input", "jobId"]},
        {"path": ["input", "candidateId"]},
    ]
    assert w.writes.calls == []


ADVANCE = f"""mutation($id: ID!, $to: ApplicationStatus!, $note: String) {{
  advanceApplication(input: {{id: $id, to: $to, note: $note}}) {{ __typename
    ... on ApplicationPayload {{ application {{ status history {{ from to by note }} }} }}
    ... on InvalidTransition {{ from allowed }} {ERRORS} }} }}"""


async def test_a_recruiter_moves_an_application_and_history_follows(schema: Schema) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, RECRUITER, ADVANCE, id=gid("Application", 1),
                     to="SCREENING", note="strong CV")  # fmt: skip
    assert data["advanceApplication"]["application"] == {
        "status": "SCREENING",
        "history": [{"from": "APPLIED", "to": "SCREENING", "by": "user:r1", "note": "strong CV"}],
    }
    assert w.writes.invalidated == [("Application", [1]), ("Job", [1])]


async def test_an_illegal_move_lists_the_allowed_ones(schema: Schema) -> None:
    ds, _, _ = board()
    data = await run(schema, ds, RECRUITER, ADVANCE, id=gid("Application", 1), to="HIRED")
    assert data["advanceApplication"] == {
        "__typename": "InvalidTransition", "code": "INVALID_TRANSITION",
        "message": "cannot move from APPLIED to HIRED",
        "from": "APPLIED", "allowed": ["SCREENING", "REJECTED", "WITHDRAWN"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("viewer", "app", "to", "typename"),
    [
        (CANDIDATE, 2, "WITHDRAWN", "ApplicationPayload"),  # their own, withdrawn
        (CANDIDATE, 2, "SCREENING", "Forbidden"),  # a candidate may only withdraw
        (CANDIDATE, 1, "WITHDRAWN", "NotFound"),  # someone else's: hidden
        (OTHER_RECRUITER, 1, "SCREENING", "NotFound"),  # another company's: hidden
        (f.ADMIN, 99, "SCREENING", "NotFound"),
    ],
)
async def test_who_may_move_an_application(
    schema: Schema, viewer: Viewer, app: int, to: str, typename: str
) -> None:
    ds, _, _ = board()
    data = await run(schema, ds, viewer, ADVANCE, id=gid("Application", app), to=to)
    assert data["advanceApplication"]["__typename"] == typename


async def test_history_of_many_applications_is_one_batch(schema: Schema) -> None:
    ds, w, _ = board()
    for app in (1, 2):
        await w.applications.advance(app, ApplicationStatus.SCREENING, None, _admin_actor())
    w.applications.history_batches.clear()
    query = """{ jobs(first: 10) { edges { node { applications { edges { node {
        status history { to } } } } } } } }"""
    data = await run(schema, ds, f.ADMIN, query)
    histories = [a["node"]["history"] for e in data["jobs"]["edges"]
                 for a in e["node"]["applications"]["edges"]]  # fmt: skip
    assert histories == [[{"to": "SCREENING"}], [{"to": "SCREENING"}]]
    assert [sorted(b) for b in w.applications.history_batches] == [[1, 2]]


async def test_history_without_an_application_writer_is_upstream_unavailable(
    schema: Schema,
) -> None:
    ds, _, _ = board()
    ds = replace(ds, application_writer=None)
    result = await schema.execute(
        "query($id: ID!) { application(id: $id) { status history { to } } }",
        variable_values={"id": gid("Application", 1)},
        context_value=Context(ds, viewer=f.ADMIN),
    )
    [error] = result.errors or []
    assert error.extensions == {"code": "UPSTREAM_UNAVAILABLE", "store": "postgres"}


@pytest.mark.parametrize("writer", ["application_writer", "candidate_writer"])
async def test_people_mutations_without_a_writer(schema: Schema, writer: str) -> None:
    ds, _, _ = board()
    ds = replace(ds, **{writer: None})
    if writer == "application_writer":
        text, variables, store = APPLY, {"input": application_input(1, ME)}, "postgres"
    else:
        text, variables, store = UPDATE_PROFILE, {"input": {"id": gid("Candidate", ME)}}, "mongo"
    result = await schema.execute(
        text, variable_values=variables, context_value=Context(ds, viewer=CANDIDATE)
    )
    [error] = result.errors or []
    assert error.extensions == {"code": "UPSTREAM_UNAVAILABLE", "store": store}


def _admin_actor() -> Actor:
    return Actor("user:admin")
