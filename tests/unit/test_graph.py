"""The schema executed over in-memory fakes: batching per list, shapes and error codes."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import Schema

from resolvers.context import Context
from schema import build_schema
from schema.ids import to_global_id
from tests import factories as f

BOARD = """query($first: Int!, $after: String) {
  jobs(first: $first, after: $after) {
    totalCount
    edges { cursor node { title salary { min { amount currency } } company { name }
            applications(first: 3) { totalCount edges { node { status candidate { name } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


def _data() -> tuple[Any, f.CallLog]:
    companies = [f.company(i) for i in range(1, 4)]
    jobs = [f.job(i, company_id=1 + i % 3) for i in range(1, 61)]
    candidates = [f.candidate(f.cid(n), email=f"c{n}@example.com") for n in range(1, 8)]
    apps = [
        f.application(i, job_id=1 + i % 60, candidate_id=f.cid(1 + i % 7)) for i in range(1, 200)
    ]
    return f.fake_datasources(companies, jobs, candidates, apps)


async def _run(schema: Schema, query: str, ds: Any, **variables: Any) -> Any:
    return await schema.execute(
        query, variable_values=variables, context_value=Context(ds, viewer=f.ADMIN)
    )


def _batches(log: f.CallLog) -> dict[str, int]:
    names: dict[str, int] = {}
    for name, _ in log.calls:
        names[name] = names.get(name, 0) + 1
    return names


@pytest.mark.parametrize("first", [5, 50])
async def test_every_edge_is_one_batch_whatever_the_page_size(schema: Schema, first: int) -> None:
    ds, log = _data()
    result = await _run(schema, BOARD, ds, first=first)
    assert result.errors is None
    edges = result.data["jobs"]["edges"]
    assert len(edges) == first
    assert all(e["node"]["company"]["name"].startswith("Company ") for e in edges)
    assert any(a["node"]["candidate"] for e in edges for a in e["node"]["applications"]["edges"])
    assert _batches(log) == {
        "jobs.search": 1,
        "jobs.count": 1,
        "companies.get_many": 1,
        "applications.for_jobs": 1,
        "applications.count_for_jobs": 1,
        "candidates.get_many": 1,
    }


async def test_unselected_edges_cost_nothing(schema: Schema) -> None:
    ds, log = _data()
    result = await _run(schema, "{ jobs(first: 3) { edges { node { title } } } }", ds)
    assert result.errors is None
    assert _batches(log) == {"jobs.search": 1}


async def test_aliases_with_different_arguments_get_their_own_pages(schema: Schema) -> None:
    ds, log = _data()
    query = """{ jobs(first: 4) { edges { node {
        few: applications(first: 1) { edges { node { id } } }
        more: applications(first: 3) { edges { node { id } } }
        hired: applications(status: [HIRED]) { totalCount } } } } }"""
    result = await _run(schema, query, ds)
    assert result.errors is None
    node = result.data["jobs"]["edges"][0]["node"]
    assert len(node["few"]["edges"]) == 1
    assert len(node["more"]["edges"]) == 3
    assert node["hired"] == {"totalCount": 0}
    assert _batches(log)["applications.for_jobs"] == 2  # one per distinct argument set


async def test_fragments_and_skip_are_honoured(schema: Schema) -> None:
    ds, log = _data()
    query = """
      fragment C on Company { name }
      query($skip: Boolean!) { jobs(first: 4) { edges { node {
        ... on Job { company { ...C } }
        applications @skip(if: $skip) { totalCount } } } } }"""
    result = await _run(schema, query, ds, skip=True)
    assert result.errors is None
    assert all(e["node"]["company"] for e in result.data["jobs"]["edges"])
    assert "applications.count_for_jobs" not in _batches(log)


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


async def test_node_and_nodes_load_each_type_in_one_batch(schema: Schema) -> None:
    ds, log = _data()
    ids = [to_global_id("Job", 1), to_global_id("Company", 2), to_global_id("Job", 999),
           to_global_id("Candidate", f.cid(3)), to_global_id("Job", 2)]  # fmt: skip
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
        ... on Job { title company { name } } ... on Company { name } } }"""
    result = await _run(schema, query, ds, ids=ids)
    assert result.errors is None
    types = [n and n["__typename"] for n in result.data["nodes"]]
    assert types == ["Job", "Company", None, "Candidate", "Job"]
    assert result.data["nodes"][0]["company"] == {"name": "Company 2"}
    batches = _batches(log)
    assert batches["jobs.get_many"] == 1
    assert batches["companies.get_many"] == 2  # the Company node, then the jobs' companies


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ jobs(first: 101) { edges { cursor } } }", "BAD_USER_INPUT"),
        ("{ jobs(last: 101) { edges { cursor } } }", "BAD_USER_INPUT"),
        ("{ jobs(first: -1) { edges { cursor } } }", "BAD_USER_INPUT"),
        ("{ jobs(first: 1, last: 1) { edges { cursor } } }", "BAD_USER_INPUT"),
        ('{ jobs(first: 2, after: "bm9wZQ") { edges { cursor } } }', "BAD_USER_INPUT"),
        ("{ jobs(filter: {salary: {currency: \"INR\", min: 9, max: 1}}) { edges { cursor } } }",
         "BAD_USER_INPUT"),
        ('{ jobs(filter: {postedAfter: "2026-02-01T00:00:00Z", postedBefore: "2026-01-01T00:00:00Z"}) { edges { cursor } } }',  # noqa: E501
         "BAD_USER_INPUT"),
        ("{ jobs(orderBy: RELEVANCE_DESC) { edges { cursor } } }", "BAD_USER_INPUT"),
        ('{ candidate(id: "Zm9v") { name } }', "BAD_USER_INPUT"),
        ('{ job(id: "Q29tcGFueTox") { title } }', "BAD_USER_INPUT"),
        ('{ company { name } }', "BAD_USER_INPUT"),
        ("{ jobs(first: 2) { edges { node { applications(first: 500) { totalCount } } } } }",
         "BAD_USER_INPUT"),
        ("{ candidates(filter: {minSkillLevel: 9}) { totalCount } }", "BAD_USER_INPUT"),
        ("{ jobs(filter: {remote: [FLYING]}) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ jobs(first: 2) { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ jobs(first: 2) ", "GRAPHQL_PARSE_FAILED"),
    ],
)  # fmt: skip
async def test_bad_input_has_a_code(schema: Schema, query: str, code: str) -> None:
    ds, log = _data()
    result = await _run(schema, query, ds)
    assert result.errors, query
    assert result.errors[0].extensions["code"] == code
    if code == "BAD_USER_INPUT" and "applications" not in query:
        assert log.calls == []  # rejected before any store is touched


async def test_one_bad_root_field_leaves_the_others_intact(schema: Schema) -> None:
    ds, _ = _data()
    result = await _run(
        schema, '{ ok: jobs(first: 1) { totalCount } bad: job(id: "x") { id } }', ds
    )
    assert result.data["ok"] == {"totalCount": 60}
    assert result.data["bad"] is None
    assert result.errors[0].path == ["bad"]


async def test_missing_entities_are_null_not_errors(schema: Schema) -> None:
    ds, _ = _data()
    gid = to_global_id("Candidate", "f" * 24)
    result = await _run(schema, "query($id: ID!) { candidate(id: $id) { name } }", ds, id=gid)
    assert result.errors is None
    assert result.data == {"candidate": None}


async def test_candidate_profile_shape(schema: Schema) -> None:
    ds, _ = _data()
    gid = to_global_id("Candidate", f.cid(1))
    query = """query($id: ID!) { candidate(id: $id) { id name skills { name level }
        attributes location { city } applications(first: 2) { totalCount } } }"""
    result = await _run(schema, query, ds, id=gid)
    assert result.errors is None
    assert result.data["candidate"] == {
        "id": gid,
        "name": "Asha Rao",
        "skills": [{"name": "python", "level": 4}],
        "attributes": {"notice_period_days": 30},
        "location": {"city": "Mumbai"},
        "applications": {"totalCount": 28},
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


async def test_depth_and_alias_limits_hold_with_cached_validation(schema: Schema) -> None:
    ds, log = _data()
    level = "jobs { edges { node { company { %s } } } }"
    deep = "{ " + level % (level % (level % (level % "name"))) + " }"  # depth 16 > 10
    aliases = "{ " + " ".join(f"a{i}: jobs(first: 1) {{ totalCount }}" for i in range(31)) + " }"
    cases = [(deep, "QUERY_TOO_DEEP"), (aliases, "ALIAS_LIMIT")]
    for query, code in cases * 2:  # twice: the second answer comes from cache
        result = await _run(schema, query, ds)
        assert result.errors
        assert result.errors[0].extensions["code"] == code
    assert log.calls == []


async def test_single_roots_expand_their_edges(schema: Schema) -> None:
    ds, _ = _data()
    query = """query($job: ID!, $app: ID!, $co: ID!) {
        job(id: $job) { title company { slug } applications(first: 1) { totalCount } }
        application(id: $app) { status job { title } candidate { name } }
        company(id: $co) { name jobs(first: 2) { edges { node { title } } } } }"""
    result = await _run(
        schema, query, ds, job=to_global_id("Job", 3), app=to_global_id("Application", 5),
        co=to_global_id("Company", 2),
    )  # fmt: skip
    assert result.errors is None
    data = result.data
    assert data["job"]["company"] == {"slug": "company-1"}
    assert data["job"]["applications"]["totalCount"] > 0
    assert data["application"]["status"] == "APPLIED"
    assert data["application"]["job"]["title"] == "Backend Engineer 6"
    assert data["application"]["candidate"]["name"] == "Asha Rao"
    assert len(data["company"]["jobs"]["edges"]) == 2


async def test_nested_arguments_from_variables(schema: Schema) -> None:
    ds, log = _data()
    query = """query($k: Int!, $s: [ApplicationStatus!]) { jobs(first: 3) { edges { node {
        applications(first: $k, status: $s) { edges { node { id } } } } } } }"""
    result = await _run(schema, query, ds, k=2, s=["APPLIED"])
    assert result.errors is None
    assert all(len(e["node"]["applications"]["edges"]) <= 2 for e in result.data["jobs"]["edges"])
    (_, args) = next(c for c in log.calls if c[0] == "applications.for_jobs")
    assert args[2] == 2
    assert [s.value for s in args[1].statuses] == ["applied"]


async def test_candidates_connection_and_their_edges(schema: Schema) -> None:
    ds, log = _data()
    query = """{ candidates(first: 3, filter: {skillsAll: ["Python"], minSkillLevel: 3}) {
        totalCount edges { cursor node { name matchingJobs(first: 2) { title }
        applications(first: 1) { totalCount } } } pageInfo { hasNextPage } } }"""
    result = await _run(schema, query, ds)
    assert result.errors is None
    connection = result.data["candidates"]
    assert connection["totalCount"] == 7
    assert len(connection["edges"]) == 3
    assert connection["pageInfo"]["hasNextPage"] is True
    (_, (spec, _order, _page)) = next(c for c in log.calls if c[0] == "candidates.search")
    assert spec.skills_all == ("python",)
    assert spec.min_skill_level == 3
    assert _batches(log)["jobs.matching_for"] == 1
