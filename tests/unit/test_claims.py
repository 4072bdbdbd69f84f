"""Verified claims -> Viewer: known roles only, the ids each role needs, scopes."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import Unauthenticated
from domain.viewer import Role, Viewer
from gateway.security.claims import ClaimNames, viewer_from_claims

CANDIDATE = "0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("claims", "viewer"),
    [
        ({"sub": "a", "role": "ADMIN"}, Viewer(role=Role.ADMIN, user_id="a")),
        ({"sub": "a", "role": "analyst", "scopes": ["x", "y"]},
         Viewer(role=Role.ANALYST, user_id="a", scopes=frozenset({"x", "y"}))),
        ({"sub": "r", "role": "RECRUITER", "company_id": "42"},
         Viewer(role=Role.RECRUITER, user_id="r", company_id=42)),
        ({"sub": "c", "role": "CANDIDATE", "candidate_id": CANDIDATE, "company_id": 3},
         Viewer(role=Role.CANDIDATE, user_id="c", candidate_id=CANDIDATE)),
        ({"sub": "a", "role": "ADMIN", "scope": "a  b", "scopes": ["ignored"]},
         Viewer(role=Role.ADMIN, user_id="a", scopes=frozenset({"a", "b"}))),
    ],
)  # fmt: skip
def test_claims_map_to_a_viewer(claims: dict[str, Any], viewer: Viewer) -> None:
    assert viewer_from_claims(claims) == viewer


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"role": "ADMIN"}, "no subject"),
        ({"sub": "a"}, "no role"),
        ({"sub": "a", "role": "SUPERUSER"}, "unknown role"),
        ({"sub": "a", "role": "RECRUITER"}, "recruiter without a company"),
        ({"sub": "a", "role": "RECRUITER", "company_id": True}, "bad company id"),
        ({"sub": "a", "role": "RECRUITER", "company_id": -1}, "bad company id"),
        ({"sub": "a", "role": "CANDIDATE"}, "candidate without a candidate id"),
        ({"sub": "a", "role": "ADMIN", "scopes": [1, 2]}, "bad scopes"),
    ],
)
def test_incomplete_or_unknown_claims_are_refused(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        viewer_from_claims(claims)


def test_claim_names_are_configurable() -> None:
    names = ClaimNames(role="https://hiregraph/role", company_id="org")
    viewer = viewer_from_claims(
        {"sub": "r", "https://hiregraph/role": "RECRUITER", "org": 5}, names
    )
    assert viewer.company_id == 5
