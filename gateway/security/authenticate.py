"""Request headers -> `Viewer`: a JWT bearer token, an API key, or nobody (`PUBLIC`).

One credential per request: sending both is refused rather than guessing which one the
client meant. API-key lookups are cached in process for `api_key_cache_seconds`
(default 5 s), so a hot key costs one primary-key read per TTL per process; the price
is that a revoked key keeps working for up to that TTL in each process that has it
cached. Only found keys are cached: a flood of made-up keys cannot evict real ones,
and cannot grow the cache (bounded, least recently used out).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from datasources.ports import ApiKeyLookup
from datasources.postgres.api_keys import PgApiKeyRepository
from domain.api_keys import ApiKey
from domain.errors import Unauthenticated
from domain.viewer import PUBLIC, Viewer
from gateway.security.expiring import ExpiringCache
from gateway.security.tokens import TokenVerifier
from gateway.settings import AuthSettings, Settings


class KeyCache:
    """Found API keys by a digest of the presented key, for `ttl` seconds each."""

    def __init__(
        self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._entries: ExpiringCache[bytes, ApiKey] = ExpiringCache(max_entries, clock)

    def get(self, digest: bytes) -> ApiKey | None:
        return self._entries.get(digest)

    def put(self, digest: bytes, key: ApiKey) -> None:
        self._entries.put(digest, key, self._ttl)


class Authenticator:
    def __init__(self, tokens: TokenVerifier | None, keys: ApiKeyLookup, cache: KeyCache) -> None:
        """`tokens` None: JWT is not configured, so bearer tokens are refused."""
        self._tokens = tokens
        self._keys = keys
        self._cache = cache

    @classmethod
    def from_settings(cls, settings: Settings | AuthSettings, pool: Any) -> Authenticator:
        """Built by the lifespan: `pool` is the asyncpg read pool the API keys live behind."""
        auth = settings.auth if isinstance(settings, Settings) else settings
        return cls(
            TokenVerifier.from_settings(auth),
            PgApiKeyRepository(pool),
            KeyCache(auth.api_key_cache_seconds),
        )

    async def viewer_for(self, headers: Mapping[str, str]) -> Viewer:
        """The viewer for a request's headers (lower-case names); `Unauthenticated` when
        credentials are present but not acceptable."""
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise Unauthenticated("send one credential: Authorization or X-API-Key, not both")
        if authorization is not None:
            return await self._bearer(authorization)
        if api_key is not None:
            return await self._api_key(api_key.strip())
        return PUBLIC

    async def _bearer(self, authorization: str) -> Viewer:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("unsupported Authorization header: use 'Bearer <token>'")
        if self._tokens is None:
            raise Unauthenticated("bearer tokens are not accepted here")
        return await self._tokens.verify(token.strip())

    async def _api_key(self, presented: str) -> Viewer:
        # The cache is keyed by a digest so plaintext keys are not kept as dict keys.
        digest = hashlib.sha256(presented.encode()).digest()
        key = self._cache.get(digest)
        if key is None:
            key = await self._keys.lookup(presented)
            if key is None:
                raise Unauthenticated("invalid API key")
            self._cache.put(digest, key)
        return key.viewer()
