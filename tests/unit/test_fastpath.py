"""Planned completion must give exactly what graphql-core's own completion gives."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from strawberry import Schema

from resolvers.context import Context
from schema import build_schema
from schema.ids import to_global_id
from tests import factories as f

QUERIES = [
    """{ jobs(first: 7) { totalCount pageInfo { hasNextPage endCursor startCursor }
         edges { cursor node { __typename id title location city country remote seniority
           employmentType skills postedAt salary { min { amount currency } max { amount } }
           c1: company { name size foundedYear } c2: company { industry __typename }
           applications(first: 2) { totalCount edges { cursor node { id status appliedAt
             candidate { name skills { name level years } attributes location { city } }
           } } } } } } }""",
    """fragment J on Job { title company { ...C } }
       fragment C on Company { slug jobs(first: 2) { edges { node { ...on Job { id title } } } } }
       { a: jobs(first: 3) { edges { node { ...J } } }
         b: jobs(first: 1) { edges { node { id } } } }""",
    """query($id: ID!) { node(id: $id) { __typename id ... on Job { title applications {
         totalCount } } } }""",
]


def _data(over: dict[int, dict[str, Any]] | None = None) -> Any:
    over = over or {}
    companies = [f.company(i) for i in range(1, 4)]
    jobs = [f.job(i, company_id=1 + i % 3, **over.get(i, {})) for i in range(1, 12)]
    candidates = [f.candidate(f.cid(n), email=f"c{n}@example.com") for n in range(1, 5)]
    apps = [
        f.application(i, job_id=1 + i % 11, candidate_id=f.cid(1 + i % 4)) for i in range(1, 30)
    ]
    return f.fake_datasources(companies, jobs, candidates, apps)[0]


@pytest.fixture(scope="module")
def schemas() -> tuple[Schema, Schema]:
    return build_schema(planned=True), build_schema(planned=False)


async def _both(schemas: tuple[Schema, Schema], query: str, ds: Any) -> tuple[Any, Any]:
    variables = {"id": to_global_id("Job", 2)}
    planned, plain = schemas
    return (
        await planned.execute(
            query, variable_values=variables, context_value=Context(ds, viewer=f.ADMIN)
        ),
        await plain.execute(
            query, variable_values=variables, context_value=Context(ds, viewer=f.ADMIN)
        ),
    )


@pytest.mark.parametrize("query", QUERIES)
async def test_same_data_as_graphql_core(schemas: tuple[Schema, Schema], query: str) -> None:
    fast, slow = await _both(schemas, query, _data())
    assert fast.errors is None
    assert slow.errors is None
    assert fast.data == slow.data


async def test_null_in_non_null_field_gives_graphql_cores_error(
    schemas: tuple[Schema, Schema],
) -> None:
    ds = _data({1: {"title": None}})  # bad data: the newest job (id 1) has no title
    fast, slow = await _both(schemas, QUERIES[0], ds)
    assert fast.data == slow.data
    assert [(e.message, e.path) for e in fast.errors] == [(e.message, e.path) for e in slow.errors]
    assert fast.errors[0].path[:3] == ["jobs", "edges", 0]


async def test_mixed_list_of_bad_and_good_objects(schemas: tuple[Schema, Schema]) -> None:
    ds = _data({5: {"country": None}})
    query = "{ jobs(first: 11) { edges { node { title country } } } }"
    fast, slow = await _both(schemas, query, ds)
    assert fast.data == slow.data
    assert len(fast.errors) == len(slow.errors) == 1


def test_planned_flag_changes_only_the_executor(schemas: tuple[Schema, Schema]) -> None:
    planned, plain = schemas
    assert planned.as_str() == plain.as_str()


async def test_plans_actually_complete_the_page(
    schemas: tuple[Schema, Schema], monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema import fastpath

    calls: list[int] = []
    original = fastpath._compile

    def counting_compile(steps: Any) -> Any:
        complete = original(steps)

        def counted(source: Any) -> Any:
            calls.append(1)
            return complete(source)

        return counted

    monkeypatch.setattr(fastpath, "_compile", counting_compile)
    monkeypatch.setattr(fastpath, "_SHARED", OrderedDict())  # plans of earlier tests
    result = await schemas[0].execute(QUERIES[0], context_value=Context(_data(), viewer=f.ADMIN))
    assert result.errors is None
    assert len(calls) >= 7  # at least every job edge went through a plan


async def test_plans_are_shared_across_operations_unless_directives_vary(
    schemas: tuple[Schema, Schema], monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema import fastpath

    compiled: list[int] = []
    original = fastpath._compile

    def counting_compile(steps: Any) -> Any:
        compiled.append(1)
        return original(steps)

    monkeypatch.setattr(fastpath, "_compile", counting_compile)
    monkeypatch.setattr(fastpath, "_SHARED", OrderedDict())
    planned = schemas[0]
    plain = "{ jobs(first: 3) { edges { node { title company { name } } } } }"
    for _ in range(3):
        assert (
            await planned.execute(plain, context_value=Context(_data(), viewer=f.ADMIN))
        ).errors is None
    once = len(compiled)
    assert once > 0
    assert once == len(set(fastpath._SHARED))  # built once, then reused

    conditional = """query($s: Boolean!) { jobs(first: 3) { edges { node {
        title company @skip(if: $s) { name } } } } }"""
    for skip in (True, False):
        result = await planned.execute(
            conditional, variable_values={"s": skip}, context_value=Context(_data(), viewer=f.ADMIN)
        )
        assert result.errors is None
        assert all(("company" in e["node"]) != skip for e in result.data["jobs"]["edges"])
    assert len(fastpath._SHARED) == once  # variable-dependent selections are never shared
