"""create_app(settings) -> FastAPI. Nothing happens at import time."""

from __future__ import annotations

import strawberry
from fastapi import FastAPI
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import health, metrics, observability
from gateway.graphql_app import GraphQLApp
from gateway.lifespan import build_lifespan
from gateway.limits import static_limits
from gateway.settings import Settings
from schema import build_schema
from schema.compiled import CompiledOperations


class Gateway(FastAPI):
    """FastAPI, with GraphQL over HTTP handed straight to its app.

    Every other path goes through FastAPI's middleware stack (error pages, exception
    handlers, the exit stack for dependencies); `/graphql` needs none of them, since
    Strawberry answers its own errors, and the five layers cost a few percent of a
    job-board request.
    """

    graphql: GraphQLApp | None = None
    graphql_http: ASGIApp | None = None  # `graphql`, in the HTTP server span when tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.graphql_http is not None
            and scope["type"] == "http"
            and scope["path"] == "/graphql"
        ):
            scope["app"] = self
            await self.graphql_http(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, schema: strawberry.Schema | None = None) -> FastAPI:
    """The ASGI app. `schema` replaces the HireGraph schema (benchmark variants, tests)."""
    expose = settings.round_trips_in_responses
    compiled = None
    if schema is None:
        limits, batch = static_limits(settings.limits), settings.limits.max_batch_operations
        schema = build_schema(
            expose_round_trips=expose,
            limits=limits,
            max_batch_operations=batch if settings.limits.batching_enabled else None,
        )
        if settings.compiled_operations:
            compiled = CompiledOperations(schema._schema, expose_round_trips=expose, limits=limits)
    app = Gateway(
        title="HireGraph",
        lifespan=observability.lifespan(build_lifespan(settings, schema._schema)),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    graphql = GraphQLApp(schema, graphiql=settings.graphiql, compiled=compiled)
    # Plain Starlette routes to the ASGI app (see gateway.graphql_app for why).
    app.router.routes.append(Route("/graphql", graphql, methods=["GET", "POST"]))
    app.router.routes.append(WebSocketRoute("/graphql", graphql))
    app.graphql = graphql
    app.graphql_http = graphql
    observability.install(app, settings.observability)
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app
