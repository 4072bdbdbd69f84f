"""Verified JWT claims -> `Viewer`.

Runs only on claims whose signature, expiry and audience were already checked; it
checks that they describe a viewer the policy can act on: a known role, the company a
recruiter acts for, the profile a candidate owns. Anything else is refused rather than
guessed, so a token minted for another system cannot slip in as a weaker role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import Unauthenticated
from domain.viewer import Role, Viewer


@dataclass(frozen=True, slots=True)
class ClaimNames:
    role: str = "role"
    company_id: str = "company_id"
    candidate_id: str = "candidate_id"


DEFAULT_CLAIMS = ClaimNames()


def _role(value: Any) -> Role:
    if not isinstance(value, str):
        raise Unauthenticated("invalid token: no role")
    try:
        return Role(value.upper())
    except ValueError:
        raise Unauthenticated("invalid token: unknown role") from None


def _company_id(value: Any) -> int | None:
    if value is None:
        return None
    # bool is an int subclass; "true" is not a company.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isdecimal() and int(value) > 0:
        return int(value)
    raise Unauthenticated("invalid token: bad company id")


def _candidate_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    raise Unauthenticated("invalid token: bad candidate id")


def scopes_from(claims: Mapping[str, Any]) -> frozenset[str]:
    """OAuth's space-separated `scope` string, or a `scopes` list (or string)."""
    raw = claims.get("scope", claims.get("scopes"))
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return frozenset(s for s in raw if s)
    raise Unauthenticated("invalid token: bad scopes")


def viewer_from_claims(claims: Mapping[str, Any], names: ClaimNames = DEFAULT_CLAIMS) -> Viewer:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("invalid token: no subject")
    role = _role(claims.get(names.role))
    company_id = _company_id(claims.get(names.company_id))
    candidate_id = _candidate_id(claims.get(names.candidate_id))
    if role is Role.RECRUITER and company_id is None:
        raise Unauthenticated("invalid token: recruiter without a company")
    if role is Role.CANDIDATE and candidate_id is None:
        raise Unauthenticated("invalid token: candidate without a candidate id")
    return Viewer(
        role=role,
        user_id=subject,
        company_id=company_id if role is Role.RECRUITER else None,
        candidate_id=candidate_id if role is Role.CANDIDATE else None,
        scopes=scopes_from(claims),
    )
