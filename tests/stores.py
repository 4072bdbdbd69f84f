"""Real stores for the test session.

`HIREGRAPH_TEST_POSTGRES_URL` / `..._MONGO_URL` / `..._REDIS_URL` point the tests at
running servers; a store whose variable is unset is started embedded, once per session,
under a temporary DATA_DIR (the same code path as `hiregraph serve`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from gateway.embedded import EmbeddedStores
from gateway.settings import STORES


@dataclass(frozen=True)
class StoreUrls:
    postgres: str  # SQLAlchemy URL of the maintenance database
    mongo: str
    redis: str


def test_url(store: str) -> str | None:
    return os.environ.get(f"HIREGRAPH_TEST_{store.upper()}_URL") or None


@contextmanager
def session_stores(data_dir: Path) -> Iterator[StoreUrls]:
    given = {s: test_url(s) for s in STORES}
    embedded = EmbeddedStores(data_dir, [s for s, url in given.items() if url is None])
    with embedded:
        urls = {**embedded.urls, **{s: u for s, u in given.items() if u}}
        yield StoreUrls(**urls)


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)
