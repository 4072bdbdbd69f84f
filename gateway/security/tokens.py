"""JWT bearer tokens -> `Viewer`, with the algorithms pinned by configuration.

The token's own header is only used to choose a key (`kid`) and to refuse an
algorithm we do not accept before doing any work; the signature is always checked
with the configured algorithm list, never with the one the token names. `exp` and
`sub` are required; `aud`/`iss` are required and checked when configured; `nbf`/`iat`
are checked when present; all with `leeway_seconds` of clock skew.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt

from domain.errors import Unauthenticated
from domain.viewer import Viewer
from gateway.security.claims import DEFAULT_CLAIMS, ClaimNames, viewer_from_claims
from gateway.security.expiring import ExpiringCache
from gateway.security.keys import JwksFileKeys, JwksUrlKeys, KeySource, SecretKey
from gateway.settings import AuthSettings

# Short, fixed reasons: enough to debug a client, nothing about the key material.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.MissingRequiredClaimError, "missing required claim"),
    (jwt.InvalidAlgorithmError, "algorithm not accepted"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.DecodeError, "malformed"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    return next((text for kind, text in _REASONS if isinstance(exc, kind)), "rejected")


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        algorithms: Sequence[str],
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway_seconds: int = 30,
        claims: ClaimNames = DEFAULT_CLAIMS,
    ) -> None:
        if not algorithms or any(a.lower() == "none" for a in algorithms):
            raise ValueError("algorithms must be non-empty and never 'none'")
        self._keys = keys
        self._algorithms = list(algorithms)
        self._audience = audience
        self._issuer = issuer
        self._leeway = leeway_seconds
        self._claims = claims
        required = ["exp", "sub"]
        required += ["aud"] if audience is not None else []
        required += ["iss"] if issuer is not None else []
        self._options: Any = {"require": required}
        self._verified = VerifiedTokens()

    @classmethod
    def from_settings(cls, auth: AuthSettings) -> TokenVerifier | None:
        """The verifier for `auth`, or None when JWT is not configured (tokens refused)."""
        if not auth.jwt_enabled:
            return None
        keys: KeySource
        if auth.jwt_secret is not None:
            keys = SecretKey(auth.jwt_secret.get_secret_value())
        elif auth.jwks_file is not None:
            keys = JwksFileKeys(auth.jwks_file)
        else:
            assert auth.jwks_url is not None
            keys = JwksUrlKeys(
                auth.jwks_url,
                lifespan=auth.jwks_cache_seconds,
                cooldown=auth.jwks_refresh_cooldown_seconds,
                timeout=auth.jwks_timeout_seconds,
            )
        return cls(
            keys,
            auth.jwt_algorithms,
            audience=auth.audience,
            issuer=auth.issuer,
            leeway_seconds=auth.leeway_seconds,
            claims=ClaimNames(auth.role_claim, auth.company_claim, auth.candidate_claim),
        )

    async def verify(self, token: str) -> Viewer:
        """The viewer a valid token describes; `Unauthenticated` for anything else."""
        digest = hashlib.sha256(token.encode()).digest()
        viewer = self._verified.get(digest)
        if viewer is None:
            viewer, expires = await self._verify(token)
            self._verified.put(digest, viewer, expires + self._leeway)
        return viewer

    async def _verify(self, token: str) -> tuple[Viewer, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("invalid token: malformed") from None
        if header.get("alg") not in self._algorithms:
            # Covers `alg: none` and HS256-signed-with-the-public-key before any key lookup.
            raise Unauthenticated("invalid token: algorithm not accepted")
        key = await self._keys.key_for(header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options=self._options,
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {_reason(exc)}") from None
        return viewer_from_claims(claims, self._claims), float(claims["exp"])


class VerifiedTokens:
    """Tokens already verified, for a minute at most and never past their `exp`.

    A client sends the same token with every request, and verifying it (header, key,
    signature, claims) is most of the cost of authentication. A token cannot change, so
    the verdict holds until it expires; the minute bounds how long a key withdrawn
    from a JWKS keeps its tokens working in a process. Keyed by a digest.
    """

    TTL = 60.0

    def __init__(self, max_entries: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self._entries: ExpiringCache[bytes, Viewer] = ExpiringCache(max_entries, clock)

    def get(self, digest: bytes) -> Viewer | None:
        return self._entries.get(digest)

    def put(self, digest: bytes, viewer: Viewer, expires: float) -> None:
        """`expires`: the token's own end, in the clock's (Unix) seconds."""
        ttl = min(expires - self._entries.clock(), self.TTL)
        self._entries.put(digest, viewer, ttl)
