"""The fault proxy against a trivial echo server: each fault observably behaves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.faults.proxy import FaultProxy, ProxyThread, proxied_url, upstream_of


@pytest.fixture
async def echo() -> AsyncIterator[int]:
    """An echo server on a free port: its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def proxy(echo: int) -> AsyncIterator[FaultProxy]:
    async with FaultProxy("127.0.0.1", echo) as p:
        yield p


async def _connect(p: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(p.host, p.port)


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes = b"ping"
) -> bytes:
    writer.write(payload)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(payload)), 5)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def test_forwards_both_ways_and_counts(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    big = bytes(range(256)) * 2048  # 512 KiB: several chunks, order kept
    assert await _roundtrip(reader, writer, big) == big
    assert proxy.stats.accepted_total == 1
    assert proxy.stats.active == 1
    assert proxy.stats.upstream_total == 1
    assert proxy.stats.bytes_upstream == proxy.stats.bytes_downstream == len(big)
    await _close(writer)
    await asyncio.sleep(0.05)
    assert proxy.stats.active == 0


async def test_latency_per_chunk_delays_each_direction(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    await proxy.set_latency(100)
    started = time.monotonic()
    await _roundtrip(reader, writer)
    assert 0.2 <= time.monotonic() - started < 0.6  # 100 ms up + 100 ms down
    await proxy.set_latency(100, direction="upstream")
    started = time.monotonic()
    await _roundtrip(reader, writer)
    assert 0.1 <= time.monotonic() - started < 0.19
    await proxy.clear()
    started = time.monotonic()
    await _roundtrip(reader, writer)
    assert time.monotonic() - started < 0.1
    await _close(writer)


async def test_latency_jitter_varies_and_keeps_order(proxy: FaultProxy) -> None:
    await proxy.set_latency(30, jitter_ms=30)
    reader, writer = await _connect(proxy)
    times = []
    for i in range(8):
        started = time.monotonic()
        payload = f"msg-{i}".encode()
        assert await _roundtrip(reader, writer, payload) == payload
        times.append(time.monotonic() - started)
    assert all(t < 0.3 for t in times)
    assert max(times) - min(times) > 0.01  # jitter: not all the same delay
    writer.write(b"".join(f"{i:04d}".encode() for i in range(200)))  # many small chunks
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(800), 5)
    assert got == b"".join(f"{i:04d}".encode() for i in range(200))
    await _close(writer)


async def test_latency_per_connection_delays_only_the_dial(proxy: FaultProxy) -> None:
    await proxy.set_latency(200, per="connection")
    started = time.monotonic()
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await _roundtrip(reader, writer)
    assert time.monotonic() - started < 0.1
    await _close(writer)


async def test_drop_closes_new_connections_only(proxy: FaultProxy) -> None:
    old_reader, old_writer = await _connect(proxy)
    await proxy.set_drop()
    reader, writer = await _connect(proxy)
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # closed at once
    assert await _roundtrip(old_reader, old_writer) == b"ping"
    stats = proxy.stats
    assert stats.dropped_total == 1
    assert stats.upstream_total == 1  # the dropped one never reached the upstream
    await proxy.clear()
    reader, writer2 = await _connect(proxy)
    assert await _roundtrip(reader, writer2) == b"ping"
    for w in (writer, old_writer, writer2):
        await _close(w)


async def test_reset_sends_rst_to_existing_and_new(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    await proxy.set_reset()
    with pytest.raises(ConnectionResetError):
        await _roundtrip(reader, writer)
    reader2, writer2 = await _connect(proxy)
    with pytest.raises(ConnectionResetError):
        await _roundtrip(reader2, writer2)
    assert proxy.stats.reset_total == 2
    assert proxy.stats.upstream_total == 1
    await proxy.clear()
    reader3, writer3 = await _connect(proxy)
    assert await _roundtrip(reader3, writer3) == b"ping"
    for w in (writer, writer2, writer3):
        await _close(w)


async def test_reset_existing_is_one_shot(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    assert await proxy.reset_existing() == 1
    with pytest.raises(ConnectionResetError):
        await _roundtrip(reader, writer)
    reader2, writer2 = await _connect(proxy)
    assert await _roundtrip(reader2, writer2) == b"ping"
    for w in (writer, writer2):
        await _close(w)


async def test_blackhole_swallows_and_never_dials(proxy: FaultProxy) -> None:
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    await proxy.set_blackhole()
    writer.write(b"lost")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(10), 0.3)
    reader2, writer2 = await _connect(proxy)  # accepted...
    writer2.write(b"hello")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader2.read(10), 0.3)  # ...but never answered
    stats = proxy.stats
    assert (stats.accepted_total, stats.upstream_total, stats.blackholed_total) == (2, 1, 1)
    assert stats.active == 2
    assert (stats.bytes_upstream, stats.bytes_downstream) == (4, 4)  # the first ping only
    await proxy.clear()
    assert await _roundtrip(reader, writer) == b"ping"  # the old connection flows again
    for w in (writer, writer2):
        await _close(w)


async def test_down_refuses_then_listens_on_the_same_port(proxy: FaultProxy) -> None:
    port = proxy.port
    reader, writer = await _connect(proxy)
    await _roundtrip(reader, writer)
    await proxy.set_down()
    with pytest.raises(ConnectionRefusedError):
        await _connect(proxy)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await _roundtrip(reader, writer)  # the open connection died with the store
    await proxy.set_down(False)
    assert proxy.port == port
    reader2, writer2 = await _connect(proxy)
    assert await _roundtrip(reader2, writer2) == b"ping"
    for w in (writer, writer2):
        await _close(w)


async def test_upstream_refusing_resets_the_client(echo: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    async with FaultProxy("127.0.0.1", closed_port) as p:
        reader, writer = await _connect(p)
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await _roundtrip(reader, writer)
        assert p.stats.upstream_total == 0
        await _close(writer)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def thread_echo() -> Iterator[int]:
    """An echo server in threads (a sync test does not run the event loop)."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoHandler) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()


def test_proxy_thread_controls_from_another_thread(thread_echo: int) -> None:
    def roundtrip(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"ping")
            return s.recv(4)

    with ProxyThread("127.0.0.1", thread_echo) as p:
        assert roundtrip(p.port) == b"ping"
        p.set_down()
        with pytest.raises(ConnectionRefusedError):
            roundtrip(p.port)
        p.clear()
        assert roundtrip(p.port) == b"ping"
        assert p.stats.upstream_total == 2
        assert p.url("postgresql+asyncpg://postgres@127.0.0.1:5432/db?x=1") == (
            f"postgresql+asyncpg://postgres@127.0.0.1:{p.port}/db?x=1"
        )


def test_url_helpers() -> None:
    assert upstream_of("redis://127.0.0.1:6379/0") == ("127.0.0.1", 6379)
    assert proxied_url("mongodb://u:p@h:27017/?directConnection=true", "127.0.0.1", 9) == (
        "mongodb://u:p@127.0.0.1:9/?directConnection=true"
    )
    with pytest.raises(ValueError, match="no host:port"):
        upstream_of("redis:///tmp/sock")
    # The embedded PostgreSQL listens on a Unix socket in its data directory.
    embedded = "postgresql+asyncpg://postgres@/db?host=%2Ftmp%2Fpg&sslmode=disable"
    assert upstream_of(embedded) == ("/tmp/pg/.s.PGSQL.5432", 0)
    assert upstream_of(embedded + "&port=5433") == ("/tmp/pg/.s.PGSQL.5433", 0)
    assert proxied_url(embedded, "127.0.0.1", 9) == (
        "postgresql+asyncpg://postgres@127.0.0.1:9/db?sslmode=disable"
    )


async def test_the_upstream_may_be_a_unix_socket(tmp_path: Path) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    path = str(tmp_path / ".s.PGSQL.5432")
    server = await asyncio.start_unix_server(handle, path)
    try:
        async with FaultProxy(path, 0) as p:
            reader, writer = await _connect(p)
            writer.write(b"over tcp, then a unix socket")
            assert await reader.read(100) == b"over tcp, then a unix socket"
            writer.close()
    finally:
        server.close()
        await server.wait_closed()
