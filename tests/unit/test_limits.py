"""Operation limits: each at and just over its threshold, fragments, cycles, cost."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, get_introspection_query, parse

from domain.errors import LimitExceeded
from domain.viewer import Role, Viewer
from schema import build_schema
from schema.limits.check import OperationLimits
from schema.limits.cost import check_cost, cost_budget, operation_cost
from schema.limits.static import StaticLimits, operation_summaries

BUDGETS = {Role.PUBLIC: 1_000, Role.CANDIDATE: 2_000, Role.RECRUITER: 5_000,
           Role.ANALYST: 10_000, Role.ADMIN: 25_000}  # fmt: skip
PUBLIC = Viewer()


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


@pytest.fixture(scope="module")
def limits(schema: GraphQLSchema) -> OperationLimits:
    return OperationLimits(schema, BUDGETS)


def _code(limits: OperationLimits, query: str, **variables: object) -> str | None:
    try:
        limits.check(query, None, variables or None, PUBLIC)
    except LimitExceeded as error:
        return error.code
    return None


def test_depth_at_and_over_the_limit(limits: OperationLimits) -> None:
    nested = "{ jobs { edges { node { company { name } } } } }"  # depth 4
    assert _code(limits, nested) is None
    level = "jobs { edges { node { company { %s } } } }"
    ten = "{ " + level % (level % "jobs { edges { totalCount } }") + " }"  # 4 + 4 + 2
    eleven = "{ " + level % (level % "jobs { edges { node { id } } }") + " }"
    assert _code(limits, ten) is None
    assert _code(limits, eleven) == "QUERY_TOO_DEEP"


def test_fifty_deep_and_parser_deep_documents_are_too_deep(limits: OperationLimits) -> None:
    fifty = "{ " + "jobs { edges { node { company { " * 12 + "jobs { edges { " + "id" + " }" * 51
    assert _code(limits, fifty) == "QUERY_TOO_DEEP"
    nested_300 = "{" + "jobs{" * 300 + "id" + "}" * 301  # graphql-core's parser stops at 200
    assert _code(limits, nested_300) == "QUERY_TOO_DEEP"


def _aliases(n: int) -> str:
    return " ".join(f"a{i}: id" for i in range(n))


def test_aliases_at_and_over_the_limit(limits: OperationLimits) -> None:
    assert _code(limits, '{ job(id: "x") { ' + _aliases(30) + " } }") is None
    assert _code(limits, '{ job(id: "x") { ' + _aliases(31) + " } }") == "ALIAS_LIMIT"
    assert _code(limits, '{ job(id: "x") { ' + _aliases(100) + " } }") == "ALIAS_LIMIT"


def test_aliases_count_once_per_fragment_spread(limits: OperationLimits) -> None:
    fragment = "fragment F on Job { " + _aliases(20) + " }"
    once = '{ job(id: "x") { ...F } } ' + fragment
    twice = '{ a: job(id: "x") { ...F } b: job(id: "y") { ...F } } ' + fragment  # 2 + 40
    assert _code(limits, once) is None
    with pytest.raises(LimitExceeded) as raised:
        limits.check(twice, None, None, PUBLIC)
    assert raised.value.code == "ALIAS_LIMIT"
    assert raised.value.extensions == {"limit": 30, "actual": 42}


def test_a_fragment_bomb_is_counted_fast_not_expanded(limits: OperationLimits) -> None:
    n = 40  # F0 spreads F1 twice ... : 2**40 aliases if expanded
    fragments = " ".join(f"fragment F{i} on Job {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    query = '{ job(id: "x") { ...F0 } } ' + fragments + f" fragment F{n} on Job {{ a: id }}"
    with pytest.raises(LimitExceeded) as raised:
        limits.check(query, None, None, PUBLIC)
    assert raised.value.code == "ALIAS_LIMIT"
    assert raised.value.extensions["actual"] == 2**n


def test_directives_at_and_over_the_limit(schema: GraphQLSchema) -> None:
    big = OperationLimits(schema, BUDGETS, StaticLimits(max_tokens=100_000))
    fields = lambda n: " ".join(f"f{i}: id @include(if: true)" for i in range(n))  # noqa: E731
    loose = OperationLimits(schema, BUDGETS, StaticLimits(max_aliases=10_000, max_tokens=100_000))
    assert _code(loose, '{ job(id: "x") { ' + fields(50) + " } }") is None
    assert _code(loose, '{ job(id: "x") { ' + fields(51) + " } }") == "DIRECTIVE_LIMIT"
    five_thousand = '{ job(id: "x") { id ' + "@skip(if: false) " * 5000 + "} }"
    assert _code(big, five_thousand) == "DIRECTIVE_LIMIT"


def test_tokens_at_and_over_the_limit(limits: OperationLimits) -> None:
    def of_tokens(n: int) -> str:  # "{ job(id: "x") { id ... } }" is 11 tokens + 1 per id
        return '{ job(id: "x") { ' + "id " * (n - 10) + "} }"

    assert _code(limits, of_tokens(5000)) is None
    assert _code(limits, of_tokens(5001)) == "TOKEN_LIMIT"
    assert _code(limits, '{ job(id: "x") { id ' + "@skip(if: false) " * 5000 + "} }") == (
        "TOKEN_LIMIT"
    )


def test_circular_fragments_are_rejected_without_recursion(limits: OperationLimits) -> None:
    query = """{ job(id: "x") { ...A } }
        fragment A on Job { company { ...B } }
        fragment B on Company { jobs { edges { node { ...A } } } }"""
    assert _code(limits, query) is None  # not a limit: the validation error is the executor's
    assert operation_cost(limits.schema, parse(query)) >= 0
    chain = 2000  # a chain of spreads: no recursion per link in the limits
    fragments = " ".join(f"fragment F{i} on Job {{ ...F{i + 1} }}" for i in range(chain))
    long = '{ job(id: "x") { ...F0 } } ' + fragments + f" fragment F{chain} on Job {{ id }}"
    [summary] = operation_summaries(parse(long)).values()  # no RecursionError
    assert (summary.depth, summary.aliases) == (1, 0)


def _cost(schema: GraphQLSchema, query: str, **variables: object) -> int:
    return operation_cost(schema, parse(query), None, variables)


BOARD = """query($n: Int) { jobs(first: $n) { totalCount pageInfo { hasNextPage }
    edges { cursor node { title company { name } applications { totalCount } } } } }"""


def test_connections_multiply_their_items_by_the_page(schema: GraphQLSchema) -> None:
    assert _cost(schema, BOARD, n=50) == 1 + 1 + 50 * 3  # connection, pageInfo, 50 x 3
    assert _cost(schema, BOARD) == 2 + 20 * 3  # PageRequest's default page of 20
    assert _cost(schema, BOARD.replace("$n: Int", "$n: Int = 5")) == 2 + 5 * 3
    assert _cost(schema, BOARD, n=1_000_000) == 2 + 100 * 3  # clamped, no crash
    assert _cost(schema, BOARD, n=-4) == 2
    assert _cost(schema, "{ jobs(last: 7) { edges { node { id } } } }") == 1 + 7
    nested_default = (
        "{ jobs(first: 2) { edges { node { applications { edges { node { id } } } } } } }"
    )
    assert _cost(schema, nested_default) == 1 + 2 * (1 + 1 + 10)  # schema default first: 10


def test_scalars_typename_and_introspection_are_cheap(schema: GraphQLSchema) -> None:
    assert _cost(schema, '{ job(id: "x") { id title __typename } }') == 1
    assert _cost(schema, get_introspection_query()) == 1


def test_lists_fragments_and_abstract_types(schema: GraphQLSchema) -> None:
    assert _cost(schema, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=["a"] * 7) == 7
    matching = '{ job(id: "x") { matchingCandidates(first: 4) { name skills { name } } } }'
    assert _cost(schema, matching) == 1 + 4 * (1 + 10 * 1)
    spread = """{ node(id: "x") { ...J ... on Company { name } } }
        fragment J on Job { company { name } }"""
    assert _cost(schema, spread) == 1 + 1


def test_nested_hundreds_exceed_the_public_budget(limits: OperationLimits) -> None:
    query = """query($a: Int!, $b: Int!) { jobs(first: $a) { edges { node {
        applications(first: $b) { edges { node { id } } } } } } }"""
    assert limits.check(query, None, {"a": 10, "b": 10}, PUBLIC) == 1 + 10 * (2 + 10)
    with pytest.raises(LimitExceeded) as raised:
        limits.check(query, None, {"a": 100, "b": 100}, PUBLIC)
    assert raised.value.code == "COST_LIMIT"
    assert raised.value.extensions == {"cost": 10_201, "budget": 1_000}
    board_50 = limits.check(BOARD, None, {"n": 50}, PUBLIC)
    assert board_50 < BUDGETS[Role.PUBLIC] / 4  # the job board fits comfortably


def test_budget_is_the_viewers_own_else_its_roles() -> None:
    assert cost_budget(Viewer(), BUDGETS) == 1_000
    assert cost_budget(Viewer(role=Role.ANALYST), BUDGETS) == 10_000
    assert cost_budget(Viewer(api_key_id="k", cost_budget=77), BUDGETS) == 77
    check_cost(77, 77)
    with pytest.raises(LimitExceeded):
        check_cost(78, 77)


def test_invalid_documents_cost_nothing_here(limits: OperationLimits) -> None:
    assert _code(limits, "{ jobs {") is None
    assert limits.check("{ nope }", None, None, PUBLIC) == 0
    assert limits.check("query A { __typename } query B { __typename }", "C", None, PUBLIC) == 0


def test_a_remembered_cost_is_still_held_to_each_viewers_budget(limits: OperationLimits) -> None:
    query = "{ jobs(first: 50) { edges { node { title company { name } } } } }"
    admin, stingy = Viewer(Role.ADMIN), Viewer(Role.PUBLIC, cost_budget=10)
    cost = limits.check(query, None, None, admin)
    assert cost > 10
    assert limits.check(query, None, None, admin) == cost  # from the remembered cost
    with pytest.raises(LimitExceeded) as refused:
        limits.check(query, None, None, stingy)
    assert refused.value.code == "COST_LIMIT"
    assert refused.value.extensions == {"cost": cost, "budget": 10}
    # Variables change the cost, so an operation with them is costed every time.
    paged = "query($n: Int) { jobs(first: $n) { edges { node { title } } } }"
    assert limits.check(paged, None, {"n": 5}, admin) < limits.check(paged, None, {"n": 50}, admin)
