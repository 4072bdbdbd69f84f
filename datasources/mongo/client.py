"""The AsyncMongoClient (PyMongo's native async driver), built by the lifespan."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient


def create_client(
    url: str,
    *,
    max_pool_size: int,
    server_selection_timeout_ms: int,
    connect_timeout_ms: int,
    socket_timeout_ms: int,
    wait_queue_timeout_ms: int | None = None,
    event_listeners: list[Any] | None = None,
) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        url,
        maxPoolSize=max_pool_size,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=connect_timeout_ms,
        socketTimeoutMS=socket_timeout_ms,
        waitQueueTimeoutMS=wait_queue_timeout_ms,
        tz_aware=True,
        appname="hiregraph",
        event_listeners=event_listeners or [],
    )


def has_reachable_server(client: AsyncMongoClient[dict[str, Any]]) -> bool:
    """Whether the driver's monitors currently know a server it could send to (a
    primary, or a secondary for reads). False while every server is down or not yet
    discovered: an operation would then spend its time in server selection."""
    description = client.topology_description
    return bool(description.has_writable_server() or description.has_readable_server())


async def ping(client: AsyncMongoClient[dict[str, Any]]) -> None:
    await client.admin.command("ping")
