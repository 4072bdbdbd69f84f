"""The schema executed over in-memory fakes: batching, shapes and error codes."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import Schema

from resolvers.context import Context
from schema import build_schema
from schema.ids import to_global_id
from tests import factories as f

BOARD = "query($first: Int!, $after: String) { jobs(first: $first, after: $after) { edges { cursor node { title salary { min { amount currency } } company { name } } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


def _data() -> tuple[Any, f.CallLog]:
    companies = [f.company(i) for i in range(1, 4)]
    jobs = [f.job(i, company_id=1 + i % 3) for i in range(1, 31)]
    return f.fake_datasources(companies, jobs, [f.candidate()])


async def _run(schema: Schema, query: str, ds: Any, **variables: Any) -> Any:
    return await schema.execute(query, variable_values=variables, context_value=Context(ds))


@pytest.mark.parametrize("first", [5, 25])
async def test_job_board_loads_companies_once_per_page(schema: Schema, first: int) -> None:
    ds, log = _data()
    result = await _run(schema, BOARD, ds, first=first)
    assert result.errors is None
    edges = result.data["jobs"]["edges"]
    assert len(edges) == first
    assert all(e["node"]["company"]["name"].startswith("Company ") for e in edges)
    assert log.count("jobs.open_page") == 1
    assert log.count("companies.get_many") == 1
    (_, (ids,)) = next(c for c in log.calls if c[0] == "companies.get_many")
    assert len(ids) == len(set(ids)) <= 3


async def test_board_without_company_skips_the_edge(schema: Schema) -> None:
    ds, log = _data()
    result = await _run(schema, "{ jobs(first: 3) { edges { node { title } } } }", ds)
    assert result.errors is None
    assert log.count("companies.get_many") == 0


async def test_company_through_fragments_is_prefetched(schema: Schema) -> None:
    ds, log = _data()
    query = """
      fragment C on Company { name }
      query { jobs(first: 4) { edges { node { ... on Job { company { ...C } } } } } }
    """
    result = await _run(schema, query, ds)
    assert result.errors is None
    assert all(e["node"]["company"] for e in result.data["jobs"]["edges"])
    assert log.count("companies.get_many") == 1


async def test_cursor_pages_are_disjoint_and_ordered(schema: Schema) -> None:
    ds, _ = _data()
    first = await _run(schema, BOARD, ds, first=10)
    after = first.data["jobs"]["pageInfo"]["endCursor"]
    second = await _run(schema, BOARD, ds, first=10, after=after)
    titles1 = [e["node"]["title"] for e in first.data["jobs"]["edges"]]
    titles2 = [e["node"]["title"] for e in second.data["jobs"]["edges"]]
    assert not set(titles1) & set(titles2)
    assert titles1[-1] == "Backend Engineer 10"
    assert titles2[0] == "Backend Engineer 11"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ jobs(first: 101) { edges { cursor } } }", "BAD_USER_INPUT"),
        ("{ jobs(first: -1) { edges { cursor } } }", "BAD_USER_INPUT"),
        ('{ jobs(first: 2, after: "bm9wZQ") { edges { cursor } } }', "BAD_USER_INPUT"),
        ('{ candidate(id: "Zm9v") { name } }', "BAD_USER_INPUT"),
        ("{ jobs(first: 2) { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ jobs(first: 2) ", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_bad_input_has_a_code(schema: Schema, query: str, code: str) -> None:
    ds, log = _data()
    result = await _run(schema, query, ds)
    assert result.errors, query
    assert result.errors[0].extensions["code"] == code
    if code == "BAD_USER_INPUT":
        assert log.calls == []  # rejected before any store is touched


async def test_missing_candidate_is_null_not_error(schema: Schema) -> None:
    ds, _ = _data()
    gid = to_global_id("Candidate", "f" * 24)
    result = await _run(schema, "query($id: ID!) { candidate(id: $id) { name } }", ds, id=gid)
    assert result.errors is None
    assert result.data == {"candidate": None}


async def test_candidate_profile_shape(schema: Schema) -> None:
    ds, _ = _data()
    gid = to_global_id("Candidate", "0" * 23 + "1")
    query = "query($id: ID!) { candidate(id: $id) { id name skills { name level } attributes location { city } } }"  # noqa: E501
    result = await _run(schema, query, ds, id=gid)
    assert result.errors is None
    assert result.data["candidate"] == {
        "id": gid,
        "name": "Asha Rao",
        "skills": [{"name": "python", "level": 4}],
        "attributes": {"notice_period_days": 30},
        "location": {"city": "Mumbai"},
    }


async def test_unexpected_errors_are_masked_with_an_id(schema: Schema) -> None:
    ds, _ = _data()

    async def boom(ids: Any) -> Any:
        raise RuntimeError("secret connection string postgres://u:p@h")

    ds.companies.get_many_by_slug = boom  # type: ignore[method-assign]
    result = await _run(schema, '{ company(slug: "company-1") { name } }', ds)
    assert result.errors
    error = result.errors[0]
    assert error.message == "Internal server error."
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error.extensions["errorId"]) == 32
    assert "secret" not in str(result.errors)
