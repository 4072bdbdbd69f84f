"""A small asyncio TCP fault proxy (Toxiproxy is not installable here).

`FaultProxy` listens on 127.0.0.1 (a free port by default) and forwards every
connection to one upstream host:port. Faults are toggled at runtime, while
connections are open:

- latency: `ms` (+- `jitter_ms`) per chunk, in either or both directions, or once
  per connection (before the proxy dials the upstream);
- drop: new connections are accepted and closed at once (FIN), existing ones live;
- reset: existing connections get a TCP RST (SO_LINGER 0), new ones too while on;
- blackhole: bytes are read and discarded, nothing is forwarded or answered; new
  connections never reach the upstream;
- down: the listener is closed (connecting is refused) and open connections are
  reset, as when the store's process dies; `set_down(False)` listens on the same port.

When either side closes (or half-closes) its end, the proxy closes both: the stores'
protocols never half-close.

Counters (`stats`) tell how many connections were accepted, are open, and reached
the upstream, so a test can assert that no new connection reached a store while a
circuit breaker is open.

`FaultProxy` runs in the caller's event loop (`async with FaultProxy(...)`).
`ProxyThread` runs one in a thread with its own loop and offers the same controls as
blocking methods: use it for a gateway subprocess, whose start-up blocks the test's
loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

Direction = Literal["both", "upstream", "downstream"]
Per = Literal["chunk", "connection"]
T = TypeVar("T")

_CHUNK = 65536


@dataclass(frozen=True)
class ProxyStats:
    """A snapshot of the proxy's counters."""

    accepted_total: int  # connections the proxy accepted from clients
    active: int  # client connections open now
    upstream_total: int  # connections the proxy opened to the upstream
    dropped_total: int  # connections closed at once by `drop`
    reset_total: int  # connections reset by `reset` or `down`
    blackholed_total: int  # connections accepted into the black hole
    bytes_upstream: int  # bytes forwarded from clients to the upstream
    bytes_downstream: int  # bytes forwarded from the upstream to clients


@dataclass
class _Latency:
    ms: float = 0.0
    jitter_ms: float = 0.0
    per: Per = "chunk"
    direction: Direction = "both"

    def delay(self, per: Per, direction: Direction) -> float:
        """Seconds to wait for a chunk (or a connection) going `direction`."""
        if self.ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        if self.per != per or self.direction not in ("both", direction):
            return 0.0
        jitter = random.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.ms + jitter) / 1000


@dataclass(eq=False)
class _Connection:
    client: asyncio.StreamWriter
    handler: asyncio.Task[object] | None = None
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def _rst(writer: asyncio.StreamWriter | None) -> None:
    """Close with a TCP RST rather than a FIN: SO_LINGER on, timeout 0."""
    if writer is None or writer.transport.is_closing():
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None and not writer.transport.is_closing():
        writer.close()


def _close_both(conn: _Connection) -> None:
    _close(conn.client)
    _close(conn.upstream)


class FaultProxy:
    """A TCP proxy to `upstream_host:upstream_port` with faults toggled at runtime."""

    def __init__(
        self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._latency = _Latency()
        self._drop = False
        self._reset = False
        self._blackhole = False
        self._down = False
        self._accepted = self._upstream = self._dropped = self._resets = self._holes = 0
        self._forwarded: dict[Direction, int] = {"upstream": 0, "downstream": 0}

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> Self:
        await self._listen()
        return self

    async def stop(self) -> None:
        await self._unlisten(close_connections=_close_both)
        await self._join_connections()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()

    @property
    def stats(self) -> ProxyStats:
        return ProxyStats(
            accepted_total=self._accepted,
            active=len(self._connections),
            upstream_total=self._upstream,
            dropped_total=self._dropped,
            reset_total=self._resets,
            blackholed_total=self._holes,
            bytes_upstream=self._forwarded["upstream"],
            bytes_downstream=self._forwarded["downstream"],
        )

    def url(self, upstream_url: str) -> str:
        """`upstream_url` (any scheme, e.g. postgresql+asyncpg://u@h:5432/db) with its
        host:port replaced by the proxy's."""
        return proxied_url(upstream_url, self.host, self.port)

    # -- faults ------------------------------------------------------------------

    async def set_latency(
        self, ms: float, *, jitter_ms: float = 0.0, per: Per = "chunk",
        direction: Direction = "both",
    ) -> None:  # fmt: skip
        """Delay every chunk (or, with per="connection", every new connection's dial to
        the upstream) by `ms` +- `jitter_ms`. Chunks keep their order."""
        self._latency = _Latency(ms, jitter_ms, per, direction)

    async def set_drop(self, on: bool = True) -> None:
        """New connections are accepted and closed at once."""
        self._drop = on

    async def set_reset(self, on: bool = True) -> None:
        """Reset every open connection; while on, reset every new one too."""
        self._reset = on
        if on:
            await self.reset_existing()

    async def reset_existing(self) -> int:
        """Reset every open connection once (new ones are unaffected): how many."""
        conns = list(self._connections)
        for conn in conns:
            self._abort(conn)
        return len(conns)

    async def set_blackhole(self, on: bool = True) -> None:
        """Read and discard everything, forward and answer nothing; new connections
        never reach the upstream (and stay black holes until closed)."""
        self._blackhole = on

    async def set_down(self, on: bool = True) -> None:
        """Stop listening (connections are refused) and reset open connections; with
        `on=False` listen again on the same port."""
        if on and not self._down:
            self._down = True
            await self._unlisten(close_connections=self._abort)
        elif not on and self._down:
            await self._listen()
            self._down = False

    async def clear(self) -> None:
        """Remove every fault (and listen again if down)."""
        self._latency = _Latency()
        self._drop = self._reset = self._blackhole = False
        await self.set_down(False)

    # -- internals ---------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _unlisten(self, close_connections: Callable[[_Connection], None]) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        # Before wait_closed: from Python 3.12 it waits for open connections too.
        for conn in list(self._connections):
            close_connections(conn)
        if server is not None:
            await server.wait_closed()

    async def _join_connections(self) -> None:
        tasks = [conn.handler for conn in self._connections if conn.handler is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def _abort(self, conn: _Connection) -> None:
        self._resets += 1
        _rst(conn.client)
        _rst(conn.upstream)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(writer, handler=asyncio.current_task())
        self._accepted += 1
        self._connections.add(conn)
        try:
            await self._serve(conn, reader)
        except (ConnectionError, OSError):
            pass
        finally:
            self._connections.discard(conn)
            _close(conn.client)
            _close(conn.upstream)

    async def _serve(self, conn: _Connection, reader: asyncio.StreamReader) -> None:
        if self._drop:
            self._dropped += 1
            return
        if self._reset:
            self._abort(conn)
            return
        if self._blackhole:
            self._holes += 1
            while await reader.read(_CHUNK):
                pass
            return
        delay = self._latency.delay("connection", "upstream")
        if delay:
            await asyncio.sleep(delay)
        try:
            if self.upstream_host.startswith("/"):  # a Unix socket's path
                up_reader, conn.upstream = await asyncio.open_unix_connection(self.upstream_host)
            else:
                up_reader, conn.upstream = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port
                )
        except OSError:
            _rst(conn.client)  # the upstream refused: so does the proxy
            return
        self._upstream += 1
        conn.tasks = [
            asyncio.create_task(self._pipe(reader, conn.upstream, "upstream")),
            asyncio.create_task(self._pipe(up_reader, conn.client, "downstream")),
        ]
        try:
            await asyncio.wait(conn.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in conn.tasks:
                task.cancel()
            await asyncio.gather(*conn.tasks, return_exceptions=True)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: Direction
    ) -> None:
        """Copy `reader` to `writer`, each chunk delayed by the latency fault (due times
        never decrease, so jitter does not reorder bytes)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def pump_in() -> None:
            due = 0.0
            while data := await reader.read(_CHUNK):
                if self._blackhole:
                    continue
                due = max(due, loop.time() + self._latency.delay("chunk", direction))
                queue.put_nowait((due, data))
            queue.put_nowait(None)

        async def pump_out() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if self._blackhole:
                    continue
                writer.write(data)
                self._forwarded[direction] += len(data)
                await writer.drain()

        with contextlib.suppress(ConnectionError, OSError):
            await _run_pumps(pump_in(), pump_out())


async def _run_pumps(pump_in: Awaitable[None], pump_out: Awaitable[None]) -> None:
    """Run both pumps: the writer flushes what was read before EOF, but an error on
    either side ends both."""
    tasks = [asyncio.ensure_future(pump_in), asyncio.ensure_future(pump_out)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def proxied_url(url: str, host: str, port: int) -> str:
    """`url` with its host:port replaced (user info, path and the rest of the query
    kept; a Unix-socket `host=`/`port=` query parameter, as the embedded PostgreSQL's
    URL has, is dropped: the proxy listens on TCP)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("host", "port")]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def upstream_of(url: str) -> tuple[str, int]:
    """The host and port a store URL points at; for a PostgreSQL URL over a Unix socket
    (`?host=/dir`), the socket's path and port 0 (`FaultProxy` dials the path)."""
    parts = urlsplit(url)
    if parts.hostname is not None and parts.port is not None:
        return parts.hostname, parts.port
    query = dict(parse_qsl(parts.query))
    if parts.scheme.startswith("postgres") and query.get("host", "").startswith("/"):
        return f"{query['host']}/.s.PGSQL.{query.get('port', '5432')}", 0
    raise ValueError(f"no host:port in {url!r}")


class ProxyThread:
    """A `FaultProxy` in a daemon thread with its own event loop; the controls are
    blocking, thread-safe methods of the same names (`thread.set_down(True)`)."""

    def __init__(self, upstream_host: str, upstream_port: int, *, port: int = 0) -> None:
        self.proxy = FaultProxy(upstream_host, upstream_port, port=port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @classmethod
    def for_url(cls, url: str) -> ProxyThread:
        return cls(*upstream_of(url))

    def start(self) -> Self:
        self._thread.start()
        self._call(self.proxy.start)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._call(self.proxy.stop)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    @property
    def host(self) -> str:
        return self.proxy.host

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def stats(self) -> ProxyStats:
        return self._call(self._stats)

    def url(self, upstream_url: str) -> str:
        return self.proxy.url(upstream_url)

    def set_latency(
        self, ms: float, *, jitter_ms: float = 0.0, per: Per = "chunk",
        direction: Direction = "both",
    ) -> None:  # fmt: skip
        self._call(lambda: self.proxy.set_latency(ms, jitter_ms=jitter_ms, per=per,
                                                  direction=direction))  # fmt: skip

    def set_drop(self, on: bool = True) -> None:
        self._call(lambda: self.proxy.set_drop(on))

    def set_reset(self, on: bool = True) -> None:
        self._call(lambda: self.proxy.set_reset(on))

    def reset_existing(self) -> int:
        return self._call(self.proxy.reset_existing)

    def set_blackhole(self, on: bool = True) -> None:
        self._call(lambda: self.proxy.set_blackhole(on))

    def set_down(self, on: bool = True) -> None:
        self._call(lambda: self.proxy.set_down(on))

    def clear(self) -> None:
        self._call(self.proxy.clear)

    async def _stats(self) -> ProxyStats:
        return self.proxy.stats

    def _call(self, factory: Callable[[], Awaitable[T]]) -> T:
        async def run() -> T:
            return await factory()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=15)
