"""uvicorn app factories for the benchmark: HireGraph and the naive variant, same stores."""

from __future__ import annotations

from fastapi import FastAPI

from bench.naive import naive_schema
from gateway.app import create_app
from gateway.settings import Settings


def hiregraph_app() -> FastAPI:
    return create_app(Settings())


def interpreted_app() -> FastAPI:
    """HireGraph with compiled operations off: every request through graphql-core."""
    return create_app(Settings(compiled_operations=False))


def naive_app() -> FastAPI:
    return create_app(Settings(), schema=naive_schema())
