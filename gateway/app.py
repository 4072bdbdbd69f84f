"""create_app(settings) -> FastAPI. Nothing happens at import time."""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from gateway import health
from gateway.context import get_context
from gateway.lifespan import build_lifespan
from gateway.settings import Settings
from schema import build_schema


class _GraphQLRouter(GraphQLRouter[Any, None]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def create_app(settings: Settings, schema: strawberry.Schema | None = None) -> FastAPI:
    """The ASGI app. `schema` replaces the HireGraph schema (benchmark variants, tests)."""
    app = FastAPI(
        title="HireGraph",
        lifespan=build_lifespan(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    graphql = _GraphQLRouter(
        schema or build_schema(expose_round_trips=settings.round_trips_in_responses),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
    )
    app.include_router(graphql, prefix="/graphql")
    app.include_router(health.router)
    return app
