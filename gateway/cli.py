"""The `hiregraph` command. The only place that reads Settings from the environment."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console

from gateway.cli_keys import apikey_cli, documents_cli
from gateway.embedded import EmbeddedStartError, EmbeddedStores
from gateway.settings import Settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="HireGraph GraphQL gateway.")
out = Console()
err = Console(stderr=True)
# cli_keys imports this module only inside its functions, so there is no import cycle.
cli.add_typer(apikey_cli, name="apikey")
cli.add_typer(documents_cli, name="documents")
analytics_cli = typer.Typer(no_args_is_help=True, help="Analytics rollups.")
cli.add_typer(analytics_cli, name="analytics")


class ScaleName(StrEnum):
    small = "small"
    medium = "medium"
    large = "large"


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        fail(f"invalid configuration ({where}): {first['msg']}")


@contextmanager
def running_stores(settings: Settings) -> Iterator[Settings]:
    """Settings with every store URL set, starting embedded servers for unset ones."""
    stores = EmbeddedStores(settings.data_dir, settings.embedded_stores)
    try:
        urls = stores.start()
    except EmbeddedStartError as exc:
        fail(str(exc))
    try:
        yield settings.model_copy(update={f"{name}_url": url for name, url in urls.items()})
    finally:
        stores.stop()


@cli.command()
def migrate() -> None:
    """Apply the PostgreSQL migrations and bootstrap MongoDB (idempotent)."""
    from gateway import provision

    with running_stores(load_settings()) as settings:
        provision.migrate_or_fail(settings, fail)
        out.print("migrated: PostgreSQL at head, MongoDB collections and indexes ready")


@cli.command()
def seed(
    scale: Annotated[ScaleName, typer.Option(help="Data volume.")] = ScaleName.small,
    seed: Annotated[int, typer.Option("--seed", help="RNG seed: same seed, same data.")] = 42,
    reset: Annotated[bool, typer.Option(help="Empty the stores first.")] = False,
) -> None:
    """Load deterministic demo data (both stores must be migrated and empty, or --reset)."""
    from gateway import provision

    with running_stores(load_settings()) as settings:
        provision.migrate_or_fail(settings, fail)
        report = provision.seed_or_fail(settings, scale.value, seed, reset, fail, progress=True)
        report.render(out)


@analytics_cli.command("refresh")
def analytics_refresh() -> None:
    """Recompute the board-wide jobStats rollup now (`hiregraph worker` does it after
    job changes)."""
    import asyncio

    from datasources.postgres.engine import asyncpg_dsn
    from datasources.postgres.rollup import JobStatsRollup

    with running_stores(load_settings()) as settings:
        assert settings.postgres_url is not None  # running_stores sets every URL
        timeout = settings.analytics.rollup_statement_timeout_seconds
        rollup = JobStatsRollup(
            asyncpg_dsn(settings.postgres_url), statement_timeout_ms=int(timeout * 1000)
        )
        try:
            done = asyncio.run(rollup.refresh())
        except Exception as exc:  # the database's own message (not migrated, timeout)
            fail(f"refresh failed: {exc}")
        if done is None:
            fail("another process is refreshing the rollup; try again later")
        out.print(
            f"job_stats rollup: snapshot {done.snapshot}, {done.rows} rows in "
            f"{done.seconds:.2f} s, as of {done.as_of.isoformat(timespec='seconds')}"
        )


@cli.command("schema")
def print_schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import sdl

    typer.echo(sdl(), nl=False)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    seed_on_first_start: Annotated[bool, typer.Option(help="Seed `small` if empty.")] = True,
) -> None:
    """Serve GraphQL over HTTP and WebSocket. Unset store URLs start embedded servers."""

    from gateway import provision

    settings = load_settings()
    host = host or settings.host
    port = settings.port if port is None else port
    if not _port_free(host, port):
        fail(f"cannot listen on {host}:{port}: address already in use")
    embedded = settings.embedded_stores
    with running_stores(settings) as settings:
        if "postgres" in embedded:
            provision.migrate_or_fail(settings, fail)
            if seed_on_first_start and provision.is_empty(settings):
                provision.seed_or_fail(settings, "small", 42, False, fail, progress=True)
        # Workers are separate processes: they read the resolved URLs from the environment.
        for name in embedded:
            os.environ[f"HIREGRAPH_{name.upper()}_URL"] = str(settings.url_for(name))
        shown = f"[{host}]" if ":" in host else host
        ide = " (GraphiQL)" if settings.graphiql else ""
        out.print(f"HireGraph serving http://{shown}:{port}/graphql{ide}", highlight=False)
        # uvicorn drains, restores the previous handlers and re-raises the signal it caught;
        # ours turns that into a clean exit so the embedded stores above stop in order.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _exit_cleanly)
        if workers > 1:  # /metrics then sums every worker's samples (prometheus multiprocess)
            from gateway.observability.metrics import prepare_multiprocess_dir

            prepare_multiprocess_dir(settings.data_dir)
        _run_server(host, port, workers, settings.resilience.shutdown_grace_seconds)


@cli.command()
def worker(
    relays: Annotated[bool, typer.Option(help="Relay the outboxes to the broker.")] = True,
    consumers: Annotated[bool, typer.Option(help="Run the event consumers.")] = True,
) -> None:
    """Relay domain events to the broker and run their consumers, until SIGTERM.

    The broker is HIREGRAPH_BROKER_URL (amqp://, redis://, nats://, kafka://); unset, it
    is Redis Streams on the Redis server. Unset store URLs start embedded servers."""
    import asyncio
    import logging

    from gateway.worker import run_worker

    if not (relays or consumers):
        fail("nothing to run: --no-relays and --no-consumers")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("hiregraph.events.faststream").setLevel(logging.WARNING)
    embedded = load_settings()
    with running_stores(embedded) as settings:
        if embedded.embedded_stores:
            from gateway import provision

            provision.migrate_or_fail(settings, fail)
        asyncio.run(run_worker(settings, relays=relays, consumers=consumers))


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # A terminal's Ctrl-C reaches every process of the group (make, uv, us), so more
    # signals may follow; ignore them so the embedded stores finish stopping.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise SystemExit(0)


def _run_server(host: str, port: int, workers: int, grace_seconds: int) -> None:
    """uvicorn, each worker a `GracefulServer` (WebSockets closed with 1001 first); on
    SIGTERM in-flight requests get `grace_seconds` to finish
    (HIREGRAPH_RESILIENCE__SHUTDOWN_GRACE_SECONDS)."""
    from uvicorn import Config

    from gateway.serve_workers import run_graceful_workers
    from gateway.websocket import GracefulServer

    options: dict[str, Any] = {"factory": True, "host": host, "port": port, "log_level": "info",
                               "timeout_graceful_shutdown": grace_seconds}  # fmt: skip
    if workers > 1:
        # A busy machine may take more than uvicorn's 5 s to start a worker.
        options |= {"workers": workers, "timeout_worker_healthcheck": 60}
        run_graceful_workers(Config("gateway.cli:worker_app", **options))
        return
    server = GracefulServer(Config("gateway.cli:worker_app", **options))
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE


def worker_app() -> FastAPI:
    """uvicorn's app factory, called in each worker process."""
    from gateway.app import create_app

    return create_app(load_settings())


def main() -> None:
    cli()
