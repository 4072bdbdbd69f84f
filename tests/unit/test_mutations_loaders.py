"""A write refreshes what the request's loaders remember, so later fields of the same
operation (mutations run in order) read the record as written, not as first loaded."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import Schema

from domain.viewer import Role, Viewer
from resolvers.context import Context
from schema import build_schema
from schema.ids import to_global_id
from tests import factories as f
from tests.writers import ME, board

RECRUITER = Viewer(Role.RECRUITER, user_id="r1", company_id=1)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


async def run(schema: Schema, ds: Any, viewer: Viewer, query: str, **variables: Any) -> Any:
    result = await schema.execute(
        query, variable_values=variables, context_value=Context(ds, viewer=viewer)
    )
    assert result.errors is None, result.errors
    return result.data


async def test_a_job_updated_earlier_is_read_as_written(schema: Schema) -> None:
    ds, _, _ = board()
    text = """mutation($job: ID!, $me: ID!) {
      updateJob(input: {id: $job, title: "Renamed"}) { __typename }
      applyToJob(input: {jobId: $job, candidateId: $me}) {
        ... on ApplicationPayload { application { job { title } } } } }"""
    data = await run(
        schema, ds, f.ADMIN, text, job=to_global_id("Job", 1), me=to_global_id("Candidate", ME)
    )
    assert data["applyToJob"]["application"]["job"] == {"title": "Renamed"}


async def test_history_loaded_earlier_is_read_again_after_a_move(schema: Schema) -> None:
    ds, _, _ = board()
    text = """mutation($id: ID!) {
      a: advanceApplication(input: {id: $id, to: SCREENING}) { ...H }
      b: advanceApplication(input: {id: $id, to: INTERVIEW}) { ...H } }
    fragment H on AdvanceApplicationResult {
      ... on ApplicationPayload { application { status history { to } } } }"""
    data = await run(schema, ds, RECRUITER, text, id=to_global_id("Application", 1))
    assert data["a"]["application"]["history"] == [{"to": "SCREENING"}]
    assert data["b"]["application"] == {
        "status": "INTERVIEW", "history": [{"to": "SCREENING"}, {"to": "INTERVIEW"}],
    }  # fmt: skip


async def test_application_counts_loaded_earlier_are_counted_again(schema: Schema) -> None:
    ds, _, _ = board()
    text = """mutation($app: ID!, $job: ID!, $me: ID!) {
      advanceApplication(input: {id: $app, to: SCREENING}) { ...C }
      applyToJob(input: {jobId: $job, candidateId: $me}) { ...C } }
    fragment C on ApplicationPayload { application { job { applications { totalCount } } } }"""
    data = await run(
        schema, ds, f.ADMIN, text, app=to_global_id("Application", 1),
        job=to_global_id("Job", 1), me=to_global_id("Candidate", ME),
    )  # fmt: skip
    counts = [data[k]["application"]["job"]["applications"]["totalCount"]
              for k in ("advanceApplication", "applyToJob")]  # fmt: skip
    assert counts == [1, 2]
