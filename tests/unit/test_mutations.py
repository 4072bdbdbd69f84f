"""Mutations through the real schema over in-memory writers: companies, jobs, and what
every mutation shares (typed errors, ids, no writer, cache invalidation). Candidates and
applications: test_mutations_people.py; how they execute: test_mutations_execution.py."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from strawberry import Schema

from domain.enums import JobStatus
from domain.viewer import Viewer
from resolvers.context import Context
from schema import build_schema
from tests import factories as f
from tests.mutation_helpers import ERRORS, OTHER_RECRUITER, RECRUITER, gid, run
from tests.writers import board


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


CREATE_COMPANY = f"""mutation($input: CreateCompanyInput!) {{ createCompany(input: $input) {{
  __typename ... on CompanyPayload {{ company {{ id slug name
    jobs {{ edges {{ node {{ id }} }} }} }} }}
  {ERRORS} }} }}"""
NEW_COMPANY = {"slug": "acme", "name": "Acme", "industry": "Software"}


async def test_create_company_returns_the_company_and_invalidates_it(schema: Schema) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, f.ADMIN, CREATE_COMPANY, input=NEW_COMPANY)
    company = data["createCompany"]["company"]
    assert company == {"id": gid("Company", 3), "slug": "acme", "name": "Acme",
                       "jobs": {"edges": []}}  # fmt: skip
    assert w.writes.calls == [("company.create", "acme", "user:admin")]
    assert w.writes.invalidated == [("Company", [3])]


@pytest.mark.parametrize(
    ("viewer", "slug", "typename", "code"),
    [
        (RECRUITER, "acme", "Forbidden", "FORBIDDEN"),
        (f.ADMIN, "company-1", "Conflict", "CONFLICT"),
    ],
)
async def test_create_company_errors(
    schema: Schema, viewer: Viewer, slug: str, typename: str, code: str
) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, viewer, CREATE_COMPANY, input={**NEW_COMPANY, "slug": slug})
    assert data["createCompany"]["__typename"] == typename
    assert data["createCompany"]["code"] == code
    assert w.writes.invalidated == []


UPDATE_COMPANY = f"""mutation($input: UpdateCompanyInput!) {{ updateCompany(input: $input) {{
  __typename ... on CompanyPayload {{ company {{ name industry website }} }}
  ... on InvalidInput {{ fieldErrors {{ path message }} }} {ERRORS} }} }}"""


async def test_a_recruiter_updates_their_company_and_only_the_fields_sent(schema: Schema) -> None:
    ds, w, _ = board()
    changes = {"id": gid("Company", 1), "name": "Renamed", "website": None}
    data = await run(schema, ds, RECRUITER, UPDATE_COMPANY, input=changes)
    assert data["updateCompany"]["company"] == {
        "name": "Renamed", "industry": "Software", "website": None,
    }  # fmt: skip
    assert w.writes.invalidated == [("Company", [1])]


@pytest.mark.parametrize(
    ("viewer", "changes", "typename"),
    [
        (OTHER_RECRUITER, {"id": gid("Company", 1), "name": "X"}, "Forbidden"),
        (f.ADMIN, {"id": gid("Company", 99), "name": "X"}, "NotFound"),
        (f.ADMIN, {"id": gid("Company", 1), "name": None}, "InvalidInput"),
        (f.ADMIN, {"id": gid("Job", 1), "name": "X"}, "InvalidInput"),
    ],
)
async def test_update_company_errors(
    schema: Schema, viewer: Viewer, changes: dict[str, Any], typename: str
) -> None:
    ds, w, _ = board()
    data = await run(schema, ds, viewer, UPDATE_COMPANY, input=changes)
    assert data["updateCompany"]["__typename"] == typename
    assert w.writes.invalidated == []


async def test_invalid_input_names_every_bad_field(schema: Schema) -> None:
    ds, w, _ = board()
    changes = {"id": gid("Job", 1), "name": None, "industry": None}
    data = await run(schema, ds, f.ADMIN, UPDATE_COMPANY, input=changes)
    result = data["updateCompany"]
    assert result["code"] == "BAD_USER_INPUT"
    assert [e["path"] for e in result["fieldErrors"]] == [
        ["input", "id"], ["input", "name"], ["input", "industry"],
    ]  # fmt: skip
    assert "not a Company id" in result["fieldErrors"][0]["message"]
    assert w.writes.calls == []  # refused before any write


POST_JOB = f"""mutation($input: PostJobInput!) {{ postJob(input: $input) {{
  __typename ... on JobPayload {{ job {{ id title status postedAt company {{ name }} }} }}
  {ERRORS} }} }}"""


def new_job(company: int, **over: Any) -> dict[str, Any]:
    return {"companyId": gid("Company", company), "title": "SRE", "description": "Run it.",
            "location": "Pune, India", "country": "IN", "remote": "REMOTE",
            "employmentType": "FULL_TIME", "seniority": "SENIOR", **over}  # fmt: skip


@pytest.mark.parametrize(("publish", "status"), [(False, "DRAFT"), (True, "OPEN")])
async def test_post_job_with_its_company(schema: Schema, publish: bool, status: str) -> None:
    ds, w, log = board()
    data = await run(schema, ds, RECRUITER, POST_JOB, input=new_job(1, publish=publish))
    job = data["postJob"]["job"]
    assert (job["id"], job["title"], job["status"]) == (gid("Job", 6), "SRE", status)
    assert (job["postedAt"] is not None) is publish
    assert job["company"] == {"name": "Company 1"}
    assert log.count("companies.get_many") == 1
    assert w.writes.invalidated == [("Job", [6])]


@pytest.mark.parametrize(
    ("viewer", "company", "typename"),
    [(RECRUITER, 2, "Forbidden"), (f.ADMIN, 99, "NotFound")],
)
async def test_post_job_errors(schema: Schema, viewer: Viewer, company: int, typename: str) -> None:
    ds, _, _ = board()
    data = await run(schema, ds, viewer, POST_JOB, input=new_job(company))
    assert data["postJob"]["__typename"] == typename


@pytest.mark.parametrize("mutation", ["updateJob", "publishJob", "closeJob"])
@pytest.mark.parametrize(
    ("viewer", "job", "expected"),
    [
        (OTHER_RECRUITER, 1, "Forbidden"),  # an open job of another company
        (OTHER_RECRUITER, 2, "NotFound"),  # another company's draft: hidden
        (f.ADMIN, 99, "NotFound"),
        (f.ADMIN, 5, "Conflict"),  # closed: no update, publish or close
    ],
)
async def test_job_changes_refused(
    schema: Schema, mutation: str, viewer: Viewer, job: int, expected: str
) -> None:
    ds, w, _ = board()
    text = f"""mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{ __typename }} }}"""
    data = await run(schema, ds, viewer, text, id=gid("Job", job))
    assert data[mutation]["__typename"] == expected
    if expected != "Conflict":  # the job's state is the writer's to judge; the rest is not
        assert w.writes.calls == []
    assert w.writes.invalidated == []


async def test_a_draft_is_updated_published_then_closed_in_one_operation(schema: Schema) -> None:
    ds, w, _ = board()
    text = """mutation($id: ID!) {
      u: updateJob(input: {id: $id, title: "Staff SRE"}) { ... on JobPayload { job { title status } } }
      p: publishJob(input: {id: $id}) { ... on JobPayload { job { title status } } }
      again: publishJob(input: {id: $id}) { __typename ... on UserError { code message } }
      c: closeJob(input: {id: $id}) { ... on JobPayload { job { status company { name } } } } }"""  # noqa: E501
    data = await run(schema, ds, RECRUITER, text, id=gid("Job", 2))
    assert data["u"]["job"] == {"title": "Staff SRE", "status": "DRAFT"}
    assert data["p"]["job"] == {"title": "Staff SRE", "status": "OPEN"}
    assert data["again"]["__typename"] == "Conflict"
    assert data["again"]["code"] == "CONFLICT"
    assert data["c"]["job"] == {"status": "CLOSED", "company": {"name": "Company 1"}}
    assert ds.jobs.rows[2].status is JobStatus.CLOSED  # type: ignore[attr-defined]
    assert w.writes.invalidated == [("Job", [2])] * 3


async def test_a_company_created_earlier_in_the_operation_is_read_from_the_loader(
    schema: Schema,
) -> None:
    ds, _, log = board()
    text = """mutation($c: CreateCompanyInput!, $j: PostJobInput!) {
      createCompany(input: $c) { __typename }
      postJob(input: $j) { ... on JobPayload { job { company { slug } } } } }"""
    data = await run(schema, ds, f.ADMIN, text, c=NEW_COMPANY, j=new_job(3))
    assert data["postJob"]["job"]["company"] == {"slug": "acme"}
    assert log.count("companies.get_many") == 0  # primed by createCompany


async def test_updating_a_job_with_null_for_a_required_field(schema: Schema) -> None:
    ds, _, _ = board()
    text = """mutation($id: ID!) { updateJob(input: {id: $id, title: null, skills: null}) {
      ... on InvalidInput { code fieldErrors { path } } } }"""
    data = await run(schema, ds, f.ADMIN, text, id=gid("Job", 1))
    assert data["updateJob"] == {
        "code": "BAD_USER_INPUT",
        "fieldErrors": [{"path": ["input", "title"]}, {"path": ["input", "skills"]}],
    }


# -- what every mutation shares -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "store"),
    [("company_writer", "postgres"), ("job_writer", "postgres")],
)
async def test_no_writer_configured_is_upstream_unavailable(
    schema: Schema, writer: str, store: str
) -> None:
    ds, _, _ = board()
    ds = replace(ds, **{writer: None})
    text = CREATE_COMPANY if writer == "company_writer" else POST_JOB
    variables = {"input": NEW_COMPANY if writer == "company_writer" else new_job(1)}
    result = await schema.execute(
        text, variable_values=variables, context_value=Context(ds, viewer=f.ADMIN)
    )
    assert result.data == {"createCompany" if writer == "company_writer" else "postJob": None}
    [error] = result.errors or []
    assert error.extensions == {"code": "UPSTREAM_UNAVAILABLE", "store": store}


async def test_a_cache_that_cannot_be_told_does_not_fail_the_write(
    schema: Schema, caplog: pytest.LogCaptureFixture
) -> None:
    ds, w, _ = board()
    w.invalidator.fail = True
    with caplog.at_level(logging.WARNING, logger="hiregraph.mutations"):
        data = await run(schema, ds, f.ADMIN, CREATE_COMPANY, input=NEW_COMPANY)
    assert data["createCompany"]["__typename"] == "CompanyPayload"
    assert "could not invalidate Company [3]" in caplog.text
