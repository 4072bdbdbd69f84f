"""connection_init credentials and the per-viewer connection registry (pure units)."""

from __future__ import annotations

import pytest

from domain.errors import Unauthenticated
from gateway.websocket import ConnectionRegistry, credential_headers


def test_credentials_are_read_case_insensitively_at_the_top_level() -> None:
    payload = {"Authorization": "Bearer t", "other": 1}
    assert credential_headers(payload) == {"authorization": "Bearer t"}
    assert credential_headers({"X-API-KEY": "hg_k"}) == {"x-api-key": "hg_k"}


def test_credentials_are_read_under_headers() -> None:
    assert credential_headers({"Headers": {"x-Api-Key": "hg_k"}}) == {"x-api-key": "hg_k"}


def test_both_places_are_merged_so_the_authenticator_refuses_two_credentials() -> None:
    payload = {"authorization": "Bearer t", "headers": {"x-api-key": "hg_k"}}
    assert credential_headers(payload) == {"authorization": "Bearer t", "x-api-key": "hg_k"}


def test_no_credentials_is_none() -> None:
    assert credential_headers({}) is None
    assert credential_headers({"headers": "nope", "token": "x"}) is None


def test_a_credential_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(Unauthenticated):
        credential_headers({"authorization": ["Bearer t"]})


class _Connection:
    def __init__(self) -> None:
        self.gone = False

    async def go_away(self) -> None:
        self.gone = True


def test_the_registry_counts_connections_per_identity() -> None:
    registry = ConnectionRegistry(max_per_viewer=2)
    a, b = _Connection(), _Connection()
    registry.opened(a)
    registry.opened(b)
    assert registry.claim("user:1")
    assert registry.claim("user:1")
    assert not registry.claim("user:1")
    assert registry.claim("user:2")
    registry.closed(a, "user:1")
    assert registry.claim("user:1")
    assert len(registry) == 1


async def test_close_all_sends_every_open_connection_away() -> None:
    registry = ConnectionRegistry(max_per_viewer=1)
    connections = [_Connection() for _ in range(3)]
    for connection in connections:
        registry.opened(connection)
    await registry.close_all()
    assert all(c.gone for c in connections)
