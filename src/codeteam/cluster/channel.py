"""A direct connection from the agent to a node's host, for the calls that need nothing of
Ray's object store (every call without a project snapshot).

Ray is the cluster's control plane here: it places one host per node, restarts it, and
carries the host's channel address and a fresh key to the agent (over Ray's
token-authenticated connections). A call itself then crosses one TCP connection: traced,
Ray's own actor call took ~3.5 ms for a round trip after an idle moment on 2 cores (its
core worker's threads each wake up in turn), where a frame on a socket takes ~0.2 ms.

The host listens on its node's address. A connection must first answer a challenge: the
HMAC-SHA256, under the key, of 32 random bytes the host sends; only then is anything read
as a :mod:`codeteam.cluster.wire` frame (a pickle): so only the agent that got the key
from Ray can send one. Sandboxes have no network, so they cannot reach it. Like Ray's own
connections without TLS, it trusts the network between the nodes not to tamper with frames.

Frames: agent to host ``(id, spec, prestart, unbounded)``; host to agent ``(id, result)``
(a :class:`~codeteam.sandbox.spec.SandboxResult`, or a ``Failure``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from codeteam.cluster import wire

#: How long a new connection may take to answer the challenge.
HANDSHAKE_S = 5.0
_NONCE = 32

Handler = Callable[[tuple[Any, ...]], Awaitable[object]]


class Lost(Exception):
    """The connection to the host ended: its process or its node is gone."""


def _answer(key: bytes, nonce: bytes) -> bytes:
    return hmac.new(key, nonce, hashlib.sha256).digest()


async def listen(ip: str, handle: Handler) -> tuple[tuple[str, int, bytes], asyncio.Server]:
    """Serve calls on ``ip`` (a free port) with ``handle``; where to connect and the key."""
    key = secrets.token_bytes(32)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks: set[asyncio.Task[None]] = set()

        async def one(message: tuple[Any, ...]) -> None:
            writer.write(wire.encode((message[0], await handle(message[1:]))))

        try:
            nonce = secrets.token_bytes(_NONCE)
            writer.write(nonce)
            answer = await asyncio.wait_for(reader.readexactly(32), HANDSHAKE_S)
            if not hmac.compare_digest(answer, _answer(key, nonce)):
                return
            while True:
                message = await wire.read(reader)
                assert isinstance(message, tuple)
                task = asyncio.ensure_future(one(message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connected, ip, 0)
    port = server.sockets[0].getsockname()[1]
    return (ip, port, key), server


class Channel:
    """The agent's end: calls multiplexed by id over one connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.closed = False
        self.reading = asyncio.ensure_future(self._read(reader))

    @classmethod
    async def connect(cls, address: tuple[str, int, bytes]) -> Channel:
        ip, port, key = address
        reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), HANDSHAKE_S)
        with contextlib.suppress(OSError):  # (asyncio sets TCP_NODELAY itself)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        nonce = await asyncio.wait_for(reader.readexactly(_NONCE), HANDSHAKE_S)
        writer.write(_answer(key, nonce))
        return cls(reader, writer)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message = await wire.read(reader)
                assert isinstance(message, tuple)
                future = self.pending.pop(message[0], None)
                if future is not None and not future.done():
                    future.set_result(message[1])
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.close()

    async def call(self, *args: object) -> Any:
        if self.closed:
            raise Lost("the connection to the host is closed")
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self.writer.write(wire.encode((self.next_id, *args)))
        return await future

    def close(self) -> None:
        """End the connection; calls waiting on it raise :class:`Lost`."""
        self.closed = True
        self.writer.close()
        for future in self.pending.values():
            if not future.done():
                future.set_exception(Lost("the connection to the host was lost"))
        self.pending.clear()
