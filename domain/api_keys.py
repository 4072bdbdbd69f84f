"""API keys for third parties: the record, the key format, and the rules a key obeys.

A key reads `hg_<id>_<secret>`: `id` is 16 hex digits, public, the primary key; the
secret is `secrets.token_urlsafe(32)` (256 random bits). Only SHA-256 of the secret is
stored. A fast hash is right here: with 256 bits of entropy there is nothing to guess,
so a slow password hash (bcrypt, argon2) would cost every request and protect nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidInput
from domain.viewer import Role, Viewer

_KEY = re.compile(r"^hg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class ApiKeySpec:
    """What `apikey create` asks for; `check()` enforces the role rules."""

    name: str
    role: Role
    scopes: frozenset[str] = frozenset()
    company_id: int | None = None
    candidate_id: str | None = None
    rate_limit: str | None = None
    cost_budget: int | None = None
    trusted_documents_only: bool = False

    def check(self) -> None:
        if not self.name.strip():
            raise InvalidInput("an API key needs a name")
        if self.role is Role.RECRUITER and self.company_id is None:
            raise InvalidInput("a RECRUITER key needs --company-id")
        if self.role is Role.CANDIDATE and not self.candidate_id:
            raise InvalidInput("a CANDIDATE key needs --candidate-id")
        if self.cost_budget is not None and self.cost_budget <= 0:
            raise InvalidInput("--cost-budget must be positive")
        if any(not s or s.strip() != s or " " in s for s in self.scopes):
            raise InvalidInput("scopes are single words without spaces")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: its public id and display prefix, what it grants, its lifecycle."""

    id: str
    prefix: str
    spec: ApiKeySpec
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def viewer(self) -> Viewer:
        """The viewer a request with this key acts as."""
        s = self.spec
        return Viewer(
            role=s.role,
            company_id=s.company_id,
            candidate_id=s.candidate_id,
            scopes=s.scopes,
            api_key_id=self.id,
            cost_budget=s.cost_budget,
            rate_limit=s.rate_limit,
            trusted_documents_only=s.trusted_documents_only,
        )


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly minted key: `plaintext` exists only here, before it is shown once."""

    id: str
    plaintext: str
    secret_hash: bytes
    prefix: str


def mint_key() -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, f"hg_{key_id}_{secret}", hash_secret(secret), f"hg_{key_id}_{secret[:4]}")


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def split_key(presented: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, or None: malformed keys never reach the store."""
    match = _KEY.match(presented)
    return (match.group(1), match.group(2)) if match else None


def document_hash(text: str) -> str:
    """The trusted-document hash: SHA-256 hex of the exact UTF-8 document text."""
    return hashlib.sha256(text.encode()).hexdigest()
