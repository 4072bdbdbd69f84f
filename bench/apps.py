"""uvicorn app factories for the benchmark variants, all over the same stores.

Every variant but the two cached ones runs with both caches off, so their figures are
uncached throughput; the naive variant and graphql-core ("interpreted") run under the
same settings as HireGraph.
"""

from __future__ import annotations

from fastapi import FastAPI

from bench.naive import naive_schema
from gateway.app import create_app
from gateway.settings import CacheSettings, ResponseCacheSettings, Settings

NO_CACHE = {
    "cache": CacheSettings(enabled=False),
    "response_cache": ResponseCacheSettings(enabled=False),
}


def hiregraph_app() -> FastAPI:
    """Compiled operations, uncached."""
    return create_app(Settings(**NO_CACHE))


def entity_cache_app() -> FastAPI:
    """Compiled operations reading entities through the Redis entity cache."""
    return create_app(Settings(response_cache=ResponseCacheSettings(enabled=False)))


def response_cache_app() -> FastAPI:
    """Both caches on: a repeated operation is a response-cache hit."""
    return create_app(Settings())


def interpreted_app() -> FastAPI:
    """HireGraph with compiled operations off: every request through graphql-core."""
    return create_app(Settings(compiled_operations=False, **NO_CACHE))


def naive_app() -> FastAPI:
    return create_app(Settings(**NO_CACHE), schema=naive_schema())
