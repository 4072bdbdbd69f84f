"""Where JWT verification keys come from: a shared secret, a JWKS file, a JWKS URL.

Each source answers "which key verifies a token with this header?" The URL source
wraps PyJWT's `PyJWKClient`, which caches the key set for `lifespan` seconds and, on
an unknown `kid`, refetches once (no more often than the cooldown), so a key rotation
at the identity provider is picked up without a restart while a stream of made-up
`kid`s cannot turn every request into a JWKS fetch. The client is blocking (urllib),
so lookups run in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from domain.errors import Unauthenticated, UpstreamUnavailable


class KeySource(Protocol):
    async def key_for(self, header: Mapping[str, Any]) -> Any:
        """The key that verifies a token with this (unverified) header."""
        ...


class SecretKey:
    """HS*: one shared secret, for development and single-issuer setups."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        return self._secret


def _pick(keys: list[PyJWK], kid: Any) -> PyJWK | None:
    if kid is None:
        # A token without `kid` is only unambiguous when there is one key.
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.key_id == kid), None)


class JwksFileKeys:
    """RS*/ES* keys from a JWKS file, read once at start-up (rotate = restart)."""

    def __init__(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
            self._keys = [k for k in PyJWKSet.from_dict(data).keys if k.public_key_use != "enc"]
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise ValueError(f"cannot load JWKS file {path}: {exc}") from exc

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        found = _pick(self._keys, header.get("kid"))
        if found is None:
            raise Unauthenticated("invalid token: unknown signing key")
        return found.key


class JwksUrlKeys:
    """RS*/ES* keys from a JWKS endpoint, cached and refreshed on an unknown `kid`."""

    def __init__(self, url: str, *, lifespan: float, cooldown: float, timeout: float) -> None:
        self._client = PyJWKClient(
            url, cache_jwk_set=True, lifespan=lifespan, cooldown_duration=cooldown, timeout=timeout
        )

    def _lookup(self, kid: Any) -> PyJWK:
        if kid is None:
            keys = self._client.get_signing_keys()
            if len(keys) != 1:
                raise jwt.PyJWKClientError("token has no kid and the key set is not one key")
            return keys[0]
        return self._client.get_signing_key(kid)

    async def key_for(self, header: Mapping[str, Any]) -> Any:
        try:
            found = await asyncio.to_thread(self._lookup, header.get("kid"))
        except jwt.PyJWKClientConnectionError as exc:
            raise UpstreamUnavailable("jwks", "signing keys are unavailable") from exc
        except (jwt.PyJWKClientError, jwt.PyJWKSetError) as exc:
            raise Unauthenticated("invalid token: unknown signing key") from exc
        return found.key
