"""create_app(settings) -> FastAPI. Nothing happens at import time."""

from __future__ import annotations

import strawberry
from fastapi import FastAPI
from starlette.routing import Route, WebSocketRoute

from gateway import health
from gateway.graphql_app import GraphQLApp
from gateway.lifespan import build_lifespan
from gateway.settings import Settings
from schema import build_schema
from schema.compiled import CompiledOperations


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
    expose = settings.round_trips_in_responses
    compiled = None
    if schema is None:
        schema = build_schema(expose_round_trips=expose)
        if settings.compiled_operations:
            compiled = CompiledOperations(schema._schema, expose_round_trips=expose)
    graphql = GraphQLApp(schema, graphiql=settings.graphiql, compiled=compiled)
    # Plain Starlette routes to the ASGI app (see gateway.graphql_app for why).
    app.router.routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", graphql))
    app.include_router(health.router)
    return app
