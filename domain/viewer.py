"""Who is asking: the viewer every request carries, and the roles the policy knows.

A `Viewer` is built once per request by the gateway (from a JWT, an API key, or nothing)
and is immutable. Authorization rules (`domain.policy`) read it; loaders carry it, so a
batch or cache can never serve one viewer's result to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PUBLIC = "PUBLIC"
    CANDIDATE = "CANDIDATE"
    RECRUITER = "RECRUITER"
    ANALYST = "ANALYST"
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role = Role.PUBLIC
    user_id: str | None = None
    company_id: int | None = None  # RECRUITER: the one company they act for
    candidate_id: str | None = None  # CANDIDATE: their own profile
    scopes: frozenset[str] = frozenset()
    api_key_id: str | None = None  # set when the credentials were an API key
    cost_budget: int | None = None  # per-operation cost budget override (API keys)
    rate_limit: str | None = None  # e.g. "5000/minute" in cost units (API keys)
    trusted_documents_only: bool = False  # API key accepts registered operations only

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def rate_identity(self) -> str | None:
        """The rate-limit bucket for an identified viewer; None: limit by client IP."""
        if self.api_key_id is not None:
            return f"key:{self.api_key_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return None


PUBLIC = Viewer()
