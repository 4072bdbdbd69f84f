"""Headers -> Viewer: one credential at most, PUBLIC without, API keys cached briefly."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jwt
import pytest

from domain.api_keys import ApiKey, ApiKeySpec
from domain.errors import Unauthenticated
from domain.viewer import PUBLIC, Role
from gateway.security.authenticate import Authenticator, KeyCache
from gateway.security.keys import SecretKey
from gateway.security.tokens import TokenVerifier
from gateway.settings import AuthSettings

SECRET = "a-development-secret-of-at-least-32-bytes"
PRESENTED = "hg_0123456789abcdef_" + "s" * 43
KEY = ApiKey(
    "0123456789abcdef",
    "hg_0123456789abcdef_ssss",
    ApiKeySpec(name="p", role=Role.ANALYST, rate_limit="10/second", cost_budget=50),
    datetime(2026, 11, 1, tzinfo=UTC),
)


class FakeKeys:
    """The key store: `live` is what a lookup finds right now; counts lookups."""

    def __init__(self) -> None:
        self.live: dict[str, ApiKey] = {PRESENTED: KEY}
        self.lookups = 0

    async def lookup(self, presented: str) -> ApiKey | None:
        self.lookups += 1
        return self.live.get(presented)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys() -> FakeKeys:
    return FakeKeys()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(keys: FakeKeys, clock: Clock) -> Authenticator:
    tokens = TokenVerifier(SecretKey(SECRET), ["HS256"])
    return Authenticator(tokens, keys, KeyCache(5.0, clock=clock))


def bearer(**claims: object) -> str:
    body = {"sub": "u1", "role": "ADMIN", "exp": int(time.time()) + 60, **claims}
    return "Bearer " + jwt.encode(body, SECRET, algorithm="HS256")


async def test_no_credentials_is_public(auth: Authenticator) -> None:
    assert await auth.viewer_for({"accept": "application/json"}) is PUBLIC


async def test_bearer_token(auth: Authenticator) -> None:
    viewer = await auth.viewer_for({"authorization": bearer()})
    assert (viewer.role, viewer.user_id) == (Role.ADMIN, "u1")


async def test_api_key(auth: Authenticator) -> None:
    viewer = await auth.viewer_for({"x-api-key": PRESENTED})
    assert viewer.role is Role.ANALYST
    assert viewer.api_key_id == KEY.id
    assert (viewer.rate_limit, viewer.cost_budget) == ("10/second", 50)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"authorization": "Bearer x", "x-api-key": PRESENTED}, "send one credential"),
        ({"authorization": "Basic dTpw"}, "use 'Bearer <token>'"),
        ({"authorization": "Bearer "}, "use 'Bearer <token>'"),
        ({"authorization": "Bearer not.a.jwt"}, "invalid token"),
        ({"x-api-key": "hg_ffffffffffffffff_" + "s" * 43}, "invalid API key"),
        ({"x-api-key": ""}, "invalid API key"),
    ],
)
async def test_bad_credentials(auth: Authenticator, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        await auth.viewer_for(headers)


async def test_bearer_refused_when_jwt_is_not_configured(keys: FakeKeys) -> None:
    auth = Authenticator.from_settings(AuthSettings(), pool=None)
    with pytest.raises(Unauthenticated, match="not accepted"):
        await auth.viewer_for({"authorization": bearer()})


async def test_revocation_takes_effect_after_the_cache_ttl(
    auth: Authenticator, keys: FakeKeys, clock: Clock
) -> None:
    for _ in range(3):
        await auth.viewer_for({"x-api-key": PRESENTED})
    assert keys.lookups == 1
    del keys.live[PRESENTED]  # revoked in the store
    clock.now += 4.9
    assert (await auth.viewer_for({"x-api-key": PRESENTED})).api_key_id == KEY.id
    clock.now += 0.2
    with pytest.raises(Unauthenticated):
        await auth.viewer_for({"x-api-key": PRESENTED})
    assert keys.lookups == 2


async def test_zero_ttl_disables_the_cache(keys: FakeKeys) -> None:
    auth = Authenticator(None, keys, KeyCache(0))
    for _ in range(3):
        await auth.viewer_for({"x-api-key": PRESENTED})
    assert keys.lookups == 3


def test_key_cache_is_bounded(clock: Clock) -> None:
    cache = KeyCache(60, max_entries=2, clock=clock)
    for digest in (b"a", b"b", b"c"):
        cache.put(digest, KEY)
    assert cache.get(b"a") is None
    assert cache.get(b"c") is KEY
