"""How mutations execute: a write refreshes what the request's loaders remember (later
fields of the operation, which run in order, read the record as written); a failure that
is not a member of the result union stays a GraphQL error with its code; graphql-core
runs them, never the compiled programs or the response cache; they have a fixed cost."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse
from strawberry import Schema

from domain.errors import Conflict
from resolvers.context import Context
from schema import build_schema
from schema.cache_policy import CachePolicies
from schema.compiled import CompiledOperations
from schema.ids import to_global_id
from schema.limits.cost import MUTATION_COST, operation_cost
from tests import factories as f
from tests.mutation_helpers import RECRUITER, run
from tests.writers import ME, board


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


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


async def test_an_error_outside_the_union_stays_a_graphql_error_with_its_code(
    schema: Schema,
) -> None:
    ds, w, _ = board()

    async def racing(*_: Any) -> Any:
        raise Conflict("changed concurrently")  # updateCompany's union has no Conflict

    w.companies.update = racing  # type: ignore[method-assign]
    text = """mutation($id: ID!) { updateCompany(input: {id: $id, name: "X"}) { __typename } }"""
    result = await schema.execute(
        text,
        variable_values={"id": to_global_id("Company", 1)},
        context_value=Context(ds, viewer=f.ADMIN),
    )
    assert result.data == {"updateCompany": None}
    [error] = result.errors or []
    assert error.extensions == {"code": "CONFLICT"}
    assert error.message == "changed concurrently"


MUTATION = 'mutation { closeJob(input: {id: "Sm9iOjE"}) { ... on JobPayload { job { id } } } }'


def test_mutations_are_never_compiled_nor_cached(schema: Schema) -> None:
    compiled = CompiledOperations(schema._schema)
    assert compiled.program(MUTATION, None) is None
    policy = CachePolicies(schema._schema).get(MUTATION, None)
    assert not policy.query
    assert not policy.cacheable


async def test_compiled_operations_hand_mutations_to_graphql_core(schema: Schema) -> None:
    ds, w, _ = board()
    compiled = CompiledOperations(schema._schema)
    assert await compiled.execute(Context(ds, viewer=f.ADMIN), MUTATION) is None
    assert w.writes.calls == []  # nothing ran on the compiled path


def test_a_mutation_costs_a_fixed_amount_plus_its_selection(schema: Schema) -> None:
    gql = schema._schema
    bare = 'mutation { closeJob(input: {id: "x"}) { __typename } }'
    assert operation_cost(gql, parse(bare)) == MUTATION_COST
    # The job (1) and its company (1); the errors' fields are leaves.
    nested = """mutation { closeJob(input: {id: "x"}) { ... on JobPayload { job {
      company { name } } } ... on UserError { message } } }"""
    assert operation_cost(gql, parse(nested)) == MUTATION_COST + 2
    two = 'mutation { a: closeJob(input: {id: "x"}) { __typename } b: publishJob(input: {id: "x"}) { __typename } }'  # noqa: E501
    assert operation_cost(gql, parse(two)) == 2 * MUTATION_COST
