"""Cache hints cover the whole schema, and what an operation's policy is made of."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType

from domain.policy import PERSONAL_FIELDS
from domain.viewer import PUBLIC, Role, Viewer
from gateway.response_cache import cache_scope
from schema import build_schema
from schema.cache_hints import HINTS
from schema.cache_policy import CachePolicies

SCHEMA = build_schema()._schema
POLICIES = CachePolicies(SCHEMA)


def test_every_object_type_and_field_has_a_hint() -> None:
    objects = {
        name: t
        for name, t in SCHEMA.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }
    assert set(HINTS) == set(objects)
    for name, t in objects.items():
        assert HINTS[name].fields == set(t.fields), name


def test_personal_fields_are_private() -> None:
    declared = {f"{t}.{n}" for t, h in HINTS.items() for n in h.private}
    expected = {
        "Preferences.salaryExpectation" if p == "preferences.salaryExpectation"
        else f"Candidate.{p}" for p in PERSONAL_FIELDS
    }  # fmt: skip
    assert declared == expected


def test_the_board_takes_the_smallest_age_and_every_entity_it_reads() -> None:
    policy = POLICIES.get(
        "{ jobs { edges { node { title company { name } applications { totalCount } } } } }",
        None,
    )
    assert policy.cacheable
    assert policy.max_age == 10
    assert policy.types == ("Application", "Company", "Job")
    assert not policy.private


def test_fragments_are_followed_and_introspection_does_not_count() -> None:
    query = """
      query Q { companies { ...C } __typename __schema { queryType { name } } }
      fragment C on CompanyConnection { edges { node { name jobs { totalCount } } } }
    """
    policy = POLICIES.get(query, "Q")
    assert (policy.max_age, policy.types) == (60, ("Company", "Job"))


def test_a_node_touches_every_possible_type_and_a_personal_field_is_private() -> None:
    policy = POLICIES.get('{ node(id: "x") { ... on Candidate { email } } }', None)
    assert policy.types == ("Application", "Candidate", "Company", "Job")
    assert policy.private
    assert POLICIES.get("{ candidates { edges { node { preferences { salaryExpectation "
                        "{ amount } } } } } }", None).private  # fmt: skip


def test_whitespace_does_not_change_the_digest() -> None:
    a = POLICIES.get("{ companies { totalCount } }", None)
    b = POLICIES.get("{\n  companies {\n    totalCount\n  }\n}\n# comment", None)
    assert a.digest == b.digest


@pytest.mark.parametrize(
    "query",
    [
        "mutation { x }",
        "subscription { x }",
        "{ jobs { nope } }",
        "{ not parsed",
        "{ __typename }",
        "query A { jobs { totalCount } }",  # operation B does not exist
    ],
)
def test_not_cacheable(query: str) -> None:
    assert not POLICIES.get(query, "B" if "query A" in query else None).cacheable


def test_scopes() -> None:
    assert cache_scope(PUBLIC, private=False) == "public"
    assert cache_scope(PUBLIC, private=True) is None
    r1 = Viewer(Role.RECRUITER, user_id="a", company_id=1)
    r1b = Viewer(Role.RECRUITER, user_id="b", company_id=1)
    r2 = Viewer(Role.RECRUITER, user_id="a", company_id=2)
    assert cache_scope(r1, private=False) == cache_scope(r1b, private=False)
    assert cache_scope(r1, private=False) != cache_scope(r2, private=False)
    assert cache_scope(r1, private=True) != cache_scope(r1b, private=True)
    c1 = Viewer(Role.CANDIDATE, user_id="a", candidate_id="c1")
    c2 = Viewer(Role.CANDIDATE, user_id="a", candidate_id="c2")
    assert cache_scope(c1, private=False) != cache_scope(c2, private=False)
    analysts = {cache_scope(Viewer(Role.ANALYST, user_id=u), private=False) for u in "ab"}
    assert analysts == {"role:ANALYST"}
    assert cache_scope(Viewer(Role.ADMIN), private=False) == "role:ADMIN"
