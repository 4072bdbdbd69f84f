"""`hiregraph serve --workers N`: uvicorn's supervisor with graceful worker processes.

Plain uvicorn workers drop open WebSockets with 1012 when they stop (their `Server`
shuts connections down before the app's lifespan ends); ours run a `GracefulServer`,
which completes every GraphQL operation and closes with 1001 first. Each worker is a
whole gateway process: its own lifespan, stores and event hub, reading every event
from the broker through its own broadcast subscription, so a subscriber receives the
events of mutations handled by any worker.

This module is what each spawned worker unpickles before it answers the supervisor's
health check, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import os

from uvicorn import Config, Server
from uvicorn.supervisors import multiprocess


class GracefulProcess(multiprocess.Process):
    """A uvicorn worker process whose server is a `GracefulServer`."""

    @property
    def server(self) -> Server:
        if self._server is None:
            from gateway.websocket import GracefulServer  # in the worker, after the pong

            self._server = GracefulServer(config=self.config)
        return self._server

    def join(self) -> None:
        """Wait for the worker to end, then drop its live gauges from /metrics (the
        prometheus multiprocess files of a dead pid would otherwise still count)."""
        super().join()
        if self.pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess as prometheus_multiprocess

            prometheus_multiprocess.mark_process_dead(self.pid)  # type: ignore[no-untyped-call]


def run_graceful_workers(config: Config) -> None:
    """`uvicorn.run` with `config.workers` processes, each a `GracefulProcess`. uvicorn's
    supervisor builds its workers from its module's `Process` (also when it restarts
    one), so that name is rebound in this, the supervisor's, process."""
    setattr(multiprocess, "Process", GracefulProcess)  # noqa: B010 - a class, for mypy
    multiprocess.Multiprocess(config, sockets=[config.bind_socket()]).run()
