"""Compiled operations answer exactly what graphql-core answers, or hand the request back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from graphql import GraphQLObjectType, TypeInfo, TypeInfoVisitor, Visitor, parse, visit
from strawberry import Schema

from domain.records import Education, Experience, Link, Money, Preferences
from resolvers.context import Context
from schema import build_schema
from schema.compiled import CompiledOperations
from schema.compiled.sources import NOT_COMPILED, OVERRIDES, TYPE_SOURCES, Call
from schema.ids import to_global_id
from tests import factories as f

JOB_FIELDS = """__typename id title description location city country remote employmentType
  seniority experienceMin experienceMax skills status postedAt createdAt updatedAt
  salary { __typename currency min { amount currency } max { amount currency } }"""
COMPANY_FIELDS = """__typename id slug name industry size headquarters website foundedYear
  description createdAt updatedAt"""
CANDIDATE_FIELDS = """__typename id name headline summary yearsExperience
  version createdAt updatedAt location { city country } skills { name level years }
  experience { company title start end highlights }
  education { institution degree field startYear endYear } links { kind url }
  preferences { remote locations employmentTypes }"""

APPLICATION_FIELDS = "__typename id status source appliedAt updatedAt"
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"

CORPUS = [
    f"""{{ __typename jobs(first: 7) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {JOB_FIELDS}
          company {{ {COMPANY_FIELDS} jobs(first: 2) {{ totalCount {PAGE_INFO}
            edges {{ cursor node {{ title }} }} }} }}
          applications(first: 2) {{ totalCount {PAGE_INFO} edges {{ cursor node {{
            {APPLICATION_FIELDS} job {{ title }} candidate {{ {CANDIDATE_FIELDS} }} }} }} }}
          matchingCandidates(first: 2) {{ name }} }} }} }} }}""",
    f"""query($c: ID!, $first: Int!, $status: [ApplicationStatus!]) {{
        candidate(id: $c) {{ {CANDIDATE_FIELDS}
          applications(first: $first, status: $status) {{ totalCount {PAGE_INFO}
            edges {{ node {{ status job {{ title company {{ name }} }} }} }} }}
          matchingJobs(first: 3) {{ title company {{ name }} }} }} }}""",
    """fragment J on Job { title company { ...C } }
       fragment C on Company { slug jobs(first: 2) { edges { node { ... on Job { id title } } } } }
       { a: jobs(first: 3) { edges { node { ...J ... on Node { id } } } }
         b: jobs(first: 1, orderBy: SALARY_MAX_DESC) { edges { cursor node { id } } } }""",
    """query($job: ID!, $app: ID!) { company(slug: "company-2") { name }
         byId: company(id: "Q29tcGFueToz") { name } job(id: $job) { title }
         application(id: $app) { status candidate { name } job { title } }
         missing: job(id: "Sm9iOjk5OQ") { title } }""",
    f"""{{ companies(first: 2, orderBy: NAME_DESC) {{ totalCount {PAGE_INFO}
          edges {{ cursor node {{ name jobs(first: 2, filter: {{ remote: [HYBRID] }}) {{
          edges {{ node {{ title }} }} }} }} }} }}
        candidates(first: 2) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ name }} }} }} }}""",
    """query($after: String) { jobs(last: 3, before: $after) {
         pageInfo { hasPreviousPage hasNextPage startCursor } edges { node { title } } } }""",
    '{ jobs(first: 2, filter: { search: "nothing matches" }) { totalCount '
    f"{PAGE_INFO} edges {{ node {{ id }} }} }} }}",
]


def _data(over: dict[int, dict[str, Any]] | None = None) -> Any:
    over = over or {}
    companies = [
        f.company(i, website=f"https://c{i}.example" if i % 2 else None) for i in (1, 2, 3)
    ]
    jobs = [f.job(i, company_id=1 + i % 3, **over.get(i, {})) for i in range(1, 12)]
    jobs[3] = f.job(4, company_id=2, salary_min=None, salary_max=None, salary_currency=None)
    jobs[5] = f.job(6, company_id=1, posted_at=f.T0 - timedelta(hours=6, microseconds=123))
    rich = f.candidate(
        f.cid(1),
        experience=(Experience("Acme", "Engineer", f.T0, None, ("shipped",)),),
        education=(Education("IIT", "BTech", "CS", 2010, 2014),),
        links=(Link("github", "https://github.com/x"),),
        preferences=Preferences(True, ("Pune",), Money(2_000_000, "INR"), ()),
    )
    candidates = [rich] + [f.candidate(f.cid(n), email=f"c{n}@x.io") for n in range(2, 5)]
    apps = [
        f.application(i, job_id=1 + i % 11, candidate_id=f.cid(1 + i % 4)) for i in range(1, 30)
    ]
    return f.fake_datasources(companies, jobs, candidates, apps)


VARIABLES = {
    "c": to_global_id("Candidate", f.cid(1)),
    "first": 2,
    "status": None,
    "job": to_global_id("Job", 2),
    "app": to_global_id("Application", 5),
}


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema()


@pytest.fixture(scope="module")
def compiled(schema: Schema) -> CompiledOperations:
    return CompiledOperations(schema._schema)


async def _both(
    schema: Schema, compiled: CompiledOperations, query: str, variables: dict[str, Any], data: Any
) -> tuple[Any, Any]:
    fast = await compiled.execute(Context(data[0], viewer=f.ADMIN), query, None, variables)
    slow = await schema.execute(
        query, variable_values=variables, context_value=Context(data[0], viewer=f.ADMIN)
    )
    reference: dict[str, Any] = {"data": slow.data}
    if slow.errors:
        reference["errors"] = [e.formatted for e in slow.errors]
    return fast, reference


@pytest.mark.parametrize("query", CORPUS)
async def test_byte_identical_to_graphql_core(
    schema: Schema, compiled: CompiledOperations, query: str
) -> None:
    used = {k: v for k, v in VARIABLES.items() if f"${k}" in query}
    fast, slow = await _both(schema, compiled, query, used, _data())
    assert "errors" not in slow
    assert fast is not None, "the operation was not compiled"
    assert orjson.dumps(fast) == orjson.dumps(slow)


def test_corpus_selects_every_field_of_every_compiled_type(schema: Schema) -> None:
    """A new field must be added here, so it is held to the same comparison."""
    graphql_schema = schema._schema
    seen: dict[str, set[str]] = {}
    info = TypeInfo(graphql_schema)

    class Fields(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            parent = info.get_parent_type()
            if isinstance(parent, GraphQLObjectType):
                seen.setdefault(parent.name, set()).add(node.name.value)

    for query in CORPUS:
        visit(parse(query), TypeInfoVisitor(info, Fields()))
    for type_name in TYPE_SOURCES:
        graphql_type = graphql_schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        compiled_fields = {n for n in graphql_type.fields if (type_name, n) not in NOT_COMPILED}
        assert compiled_fields <= seen.get(type_name, set()), type_name


@pytest.mark.parametrize(
    "selection", ["email", "phone", "attributes", "preferences { salaryExpectation { amount } }"]
)
async def test_personal_fields_run_on_graphql_core(
    schema: Schema, compiled: CompiledOperations, selection: str
) -> None:
    query = f"{{ candidates(first: 2) {{ edges {{ node {{ name {selection} }} }} }} }}"
    fast, slow = await _both(schema, compiled, query, {}, _data())
    assert fast is None
    assert "errors" not in slow  # the admin reads them


async def test_same_batches_as_graphql_core(schema: Schema, compiled: CompiledOperations) -> None:
    fast_data, slow_data = _data(), _data()
    await compiled.execute(Context(fast_data[0], viewer=f.ADMIN), CORPUS[0])
    await schema.execute(CORPUS[0], context_value=Context(slow_data[0], viewer=f.ADMIN))
    assert fast_data[1].calls
    assert sorted(n for n, _ in fast_data[1].calls) == sorted(n for n, _ in slow_data[1].calls)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ node(id: "Sm9iOjE") { id } }', {}),  # abstract type
        ("query($s: Boolean!) { jobs { edges { node { id @skip(if: $s) } } } }", {"s": True}),
        ("{ __schema { queryType { name } } }", {}),  # introspection
        ("{ jobs { edges { node { nope } } } }", {}),  # invalid
        ("{ jobs(", {}),  # syntax error
        ("{ jobs(first: 1000) { totalCount } }", {}),  # BAD_USER_INPUT
        ('{ job(id: "bm90IGFuIGlk") { title } }', {}),  # malformed id
        ("query($n: Int!) { jobs(first: $n) { totalCount } }", {"n": "ten"}),  # bad variable
        ("query($n: Int!) { jobs(first: $n) { totalCount } }", {}),  # missing variable
    ],
)
async def test_hands_back_what_it_does_not_cover_or_that_needs_an_error(
    compiled: CompiledOperations, query: str, variables: dict[str, Any]
) -> None:
    assert (
        await compiled.execute(Context(_data()[0], viewer=f.ADMIN), query, None, variables) is None
    )


async def test_null_in_non_null_field_is_handed_back(
    schema: Schema, compiled: CompiledOperations
) -> None:
    query = "{ jobs(first: 11) { edges { node { title country } } } }"
    data = _data({5: {"country": None}})
    fast, slow = await _both(schema, compiled, query, {}, data)
    assert fast is None
    assert len(slow["errors"]) == 1


async def test_variables_change_results_of_one_program(compiled: CompiledOperations) -> None:
    query = "query($n: Int!) { jobs(first: $n) { edges { node { id } } } }"
    sizes = []
    for n in (1, 4):
        result = await compiled.execute(Context(_data()[0], viewer=f.ADMIN), query, None, {"n": n})
        assert result is not None
        sizes.append(len(result["data"]["jobs"]["edges"]))
    assert sizes == [1, 4]
    assert compiled.program(query, None) is compiled.program(query, None)


async def test_round_trips_reported_when_exposed(schema: Schema) -> None:
    exposed = CompiledOperations(schema._schema, expose_round_trips=True)
    result = await exposed.execute(
        Context(_data()[0], viewer=f.ADMIN), "{ jobs(first: 2) { totalCount } }"
    )
    assert result is not None
    assert result["extensions"] == {"roundTrips": {"postgres": 0, "mongo": 0, "redis": 0}}  # fakes


BOARD = """{ jobs(first: 50, orderBy: POSTED_AT_DESC) { edges { node {
  title location salary { min { amount currency } max { amount currency } }
  company { name industry } applications { totalCount } } } } }"""


def test_the_job_board_reads_only_the_fields_it_renders(compiled: CompiledOperations) -> None:
    program = compiled.program(BOARD, None)
    assert program is not None
    (root,) = program.roots
    assert root.fields == {
        "id", "title", "location", "salary_min", "salary_max", "salary_currency", "company_id",
    }  # fmt: skip


@pytest.mark.parametrize(
    "edge",
    ["applications { edges { node { job { title } } } }", "matchingCandidates { name }"],
)
def test_edges_through_the_job_loader_read_root_jobs_whole(
    compiled: CompiledOperations, edge: str
) -> None:
    program = compiled.program(f"{{ jobs {{ edges {{ node {{ title {edge} }} }} }} }}", None)
    assert program is not None
    assert program.roots[0].fields is None


def test_salary_declares_every_job_field_its_range_reads(schema: Schema) -> None:
    salary = OVERRIDES[("Job", "salary")]
    assert isinstance(salary, Call)
    assert salary.reads is not None
    for name in schema._schema.type_map["SalaryRange"].fields:  # type: ignore[attr-defined]
        source = OVERRIDES.get(("SalaryRange", name))
        reads = source.reads if isinstance(source, Call) else (source.name,)  # type: ignore[union-attr]
        assert reads is not None
        assert set(reads) <= set(salary.reads), name


async def test_projected_board_renders_as_graphql_core(
    schema: Schema, compiled: CompiledOperations
) -> None:
    fast, slow = await _both(schema, compiled, BOARD, {}, _data())
    assert fast is not None
    assert orjson.dumps(fast) == orjson.dumps(slow)
