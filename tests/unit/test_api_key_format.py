"""The API key format: `hg_<16 hex>_<43 url-safe chars>`; only the secret's hash is kept."""

from __future__ import annotations

import hashlib

import pytest

from domain.api_keys import ApiKeySpec, hash_secret, mint_key, split_key
from domain.errors import InvalidInput
from domain.viewer import Role


def test_minted_keys_split_back_and_hash_the_secret() -> None:
    for _ in range(200):  # token_urlsafe may put '_' or '-' in the secret
        new = mint_key()
        assert split_key(new.plaintext) == (new.id, new.plaintext.split("_", 2)[2])
        secret = new.plaintext.split("_", 2)[2]
        assert new.secret_hash == hash_secret(secret) == hashlib.sha256(secret.encode()).digest()
        assert new.plaintext.startswith(new.prefix)


@pytest.mark.parametrize(
    "presented",
    ["", "hg_", "hg_0123456789abcdef_short", "xx_0123456789abcdef_" + "a" * 43,
     "hg_0123456789ABCDEF_" + "a" * 43, "hg_0123456789abcdef_" + "a" * 42 + "!"],
)  # fmt: skip
def test_malformed_keys_do_not_split(presented: str) -> None:
    assert split_key(presented) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ApiKeySpec(name=" ", role=Role.ADMIN), "needs a name"),
        (ApiKeySpec(name="r", role=Role.RECRUITER), "--company-id"),
        (ApiKeySpec(name="c", role=Role.CANDIDATE), "--candidate-id"),
        (ApiKeySpec(name="a", role=Role.ADMIN, cost_budget=0), "positive"),
        (ApiKeySpec(name="a", role=Role.ADMIN, scopes=frozenset({"a b"})), "single words"),
    ],
)
def test_spec_rules(spec: ApiKeySpec, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        spec.check()
