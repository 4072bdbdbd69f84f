"""Builds the per-request GraphQL context (a FastAPI dependency)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from resolvers.context import Context

__all__ = ["Context", "get_context"]


async def get_context(connection: HTTPConnection) -> Context:
    return Context(connection.app.state.datasources)
