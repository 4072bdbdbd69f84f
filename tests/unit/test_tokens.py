"""JWT verification: pinned algorithms, standard claims, JWKS file and URL with rotation."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from domain.errors import Unauthenticated
from domain.viewer import Role, Viewer
from gateway.security.keys import JwksFileKeys, JwksUrlKeys, SecretKey
from gateway.security.tokens import TokenVerifier, VerifiedTokens

SECRET = "a-development-secret-of-at-least-32-bytes"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "u1", "role": "ADMIN", "iat": now, "exp": now + 300, **extra}


def hs256(secret: str = SECRET, **extra: Any) -> str:
    return jwt.encode(claims(**extra), secret, algorithm="HS256")


def jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if alg.startswith("RS") else ECAlgorithm
    data: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


def hs_verifier(**kw: Any) -> TokenVerifier:
    return TokenVerifier(SecretKey(SECRET), ["HS256"], **kw)


async def test_hs256_token_maps_to_a_viewer() -> None:
    token = hs256(role="RECRUITER", company_id=7, scope="jobs:write jobs:read")
    viewer = await hs_verifier().verify(token)
    assert viewer == Viewer(
        role=Role.RECRUITER,
        user_id="u1",
        company_id=7,
        scopes=frozenset({"jobs:read", "jobs:write"}),
    )


@pytest.mark.parametrize(
    ("token_claims", "reason"),
    [
        # Times relative to when the test runs (collection can be minutes earlier).
        (lambda now: {"exp": now - 120}, "expired"),
        (lambda now: {"nbf": now + 120}, "not yet valid"),
        (lambda now: {"aud": "someone-else"}, "wrong audience"),
        (lambda now: {"iss": "https://evil.example"}, "wrong issuer"),
    ],
)
async def test_standard_claims_are_checked(
    token_claims: Callable[[int], dict[str, Any]], reason: str
) -> None:
    verifier = hs_verifier(audience="hiregraph", issuer="https://id.example", leeway_seconds=5)
    base = {"aud": "hiregraph", "iss": "https://id.example"}
    with pytest.raises(Unauthenticated, match=reason):
        await verifier.verify(hs256(**{**base, **token_claims(int(time.time()))}))


async def test_configured_audience_is_required() -> None:
    with pytest.raises(Unauthenticated, match="missing required claim"):
        await hs_verifier(audience="hiregraph").verify(hs256())


async def test_leeway_absorbs_clock_skew() -> None:
    token = hs256(exp=int(time.time()) - 10)
    assert (await hs_verifier(leeway_seconds=30).verify(token)).user_id == "u1"
    with pytest.raises(Unauthenticated, match="expired"):
        await hs_verifier(leeway_seconds=0).verify(token)


async def test_alg_none_is_rejected() -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(Unauthenticated, match="algorithm not accepted"):
        await hs_verifier().verify(unsigned)


async def test_token_signed_with_another_secret_is_rejected() -> None:
    with pytest.raises(Unauthenticated, match="bad signature"):
        await hs_verifier().verify(hs256(secret="another-secret-that-is-also-32-bytes-long"))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer x"])
async def test_garbage_is_malformed(garbage: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        await hs_verifier().verify(garbage)


def test_none_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="none"):
        TokenVerifier(SecretKey(SECRET), ["HS256", "none"])


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    keys = [jwk(RSA_KEY, "rsa-1", "RS256"), jwk(EC_KEY, "ec-1", "ES256")]
    path.write_text(json.dumps({"keys": keys}))
    return path


@pytest.mark.parametrize(
    ("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
)
async def test_rs256_and_es256_from_a_jwks_file(
    jwks_file: Path, key: Any, kid: str, alg: str
) -> None:
    verifier = TokenVerifier(JwksFileKeys(jwks_file), ["RS256", "ES256"])
    token = jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})
    assert (await verifier.verify(token)).role is Role.ADMIN


async def test_unknown_kid_in_a_file_is_rejected(jwks_file: Path) -> None:
    verifier = TokenVerifier(JwksFileKeys(jwks_file), ["RS256"])
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "rsa-9"})
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        await verifier.verify(token)


async def test_kid_of_one_key_with_another_keys_signature_is_rejected(jwks_file: Path) -> None:
    verifier = TokenVerifier(JwksFileKeys(jwks_file), ["RS256"])
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "rsa-1"})
    with pytest.raises(Unauthenticated, match="bad signature"):
        await verifier.verify(token)


async def test_hs256_signed_with_the_rsa_public_key_is_rejected(jwks_file: Path) -> None:
    """Algorithm confusion: the public key is public, so it must never act as a secret."""
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    forged = _sign_hs256_raw(header, claims(role="ADMIN"), public_pem)
    verifier = TokenVerifier(JwksFileKeys(jwks_file), ["RS256"])
    with pytest.raises(Unauthenticated, match="algorithm not accepted"):
        await verifier.verify(forged)


def _sign_hs256_raw(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    # PyJWT refuses PEM keys as HMAC secrets, so forge the token by hand like an attacker.
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test can rotate; counts fetches."""

    keys: ClassVar[list[dict[str, Any]]] = []
    fetches: ClassVar[int] = 0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            JwksServer.fetches += 1
            body = json.dumps({"keys": JwksServer.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass


@pytest.fixture
def jwks_url() -> Iterator[str]:
    JwksServer.keys = [jwk(RSA_KEY, "rsa-1", "RS256")]
    JwksServer.fetches = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), JwksServer.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()
    thread.join()


async def test_jwks_url_is_cached_and_refetched_once_on_unknown_kid(jwks_url: str) -> None:
    keys = JwksUrlKeys(jwks_url, lifespan=300, cooldown=0, timeout=5)
    verifier = TokenVerifier(keys, ["RS256", "ES256"])
    old = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    for _ in range(3):
        await verifier.verify(old)
    assert JwksServer.fetches == 1

    # The identity provider rotates to a new key: the first token with its kid refetches.
    JwksServer.keys = [jwk(EC_KEY, "ec-2", "ES256")]
    new = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-2"})
    assert (await verifier.verify(new)).user_id == "u1"
    await verifier.verify(new)
    assert JwksServer.fetches == 2

    # A kid nobody publishes: exactly one more fetch, then rejected.
    stray = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "nope"})
    with pytest.raises(Unauthenticated, match="unknown signing key"):
        await verifier.verify(stray)
    assert JwksServer.fetches == 3


async def test_jwks_refetch_cooldown_bounds_fetches_for_made_up_kids(jwks_url: str) -> None:
    verifier = TokenVerifier(JwksUrlKeys(jwks_url, lifespan=300, cooldown=60, timeout=5), ["RS256"])
    await verifier.verify(
        jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    )
    for kid in ("x1", "x2", "x3"):
        token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": kid})
        with pytest.raises(Unauthenticated):
            await verifier.verify(token)
    assert JwksServer.fetches == 1


async def test_a_verified_token_is_not_verified_again() -> None:
    verifier = hs_verifier()
    calls = 0
    key_for = verifier._keys.key_for

    async def counting(header: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        return await key_for(header)

    verifier._keys.key_for = counting  # type: ignore[method-assign]
    token = hs256(role="RECRUITER", company_id=7)
    first, second = await verifier.verify(token), await verifier.verify(token)
    assert first == second
    assert first.company_id == 7
    assert calls == 1
    with pytest.raises(Unauthenticated):  # a cached good token does not vouch for a bad one
        await verifier.verify(hs256(secret="another-secret-of-enough-length-000000"))


def test_verified_tokens_expire_with_the_token_and_after_a_minute() -> None:
    now = 1_000.0
    cache = VerifiedTokens(max_entries=2, clock=lambda: now)
    viewer = Viewer(Role.ADMIN, user_id="a")
    cache.put(b"soon", viewer, expires=now + 5)
    cache.put(b"later", viewer, expires=now + 3_600)
    assert cache.get(b"soon") is viewer
    now += 6
    assert cache.get(b"soon") is None  # past the token's exp
    assert cache.get(b"later") is viewer
    now += VerifiedTokens.TTL
    assert cache.get(b"later") is None  # checked again at least once a minute
    for digest in (b"a", b"b", b"c"):
        cache.put(digest, viewer, expires=now + 60)
    assert cache.get(b"a") is None  # bounded: the least recently used went first
