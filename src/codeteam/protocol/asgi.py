"""The few ASGI primitives the HTTP transports need: headers, bodies, responses, SSE.

Plain ASGI (no framework): each helper is one ``send``/``receive`` pattern.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = b"application/json"
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
]
KEEPALIVE = b": keepalive\n\n"


class Disconnected(Exception):
    """The client went away while we were reading its request."""


class TooLarge(Exception):
    """The request body is larger than we accept."""


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers by lowercase name (last value wins), decoded as latin-1."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def drain_body(receive: Receive, limit: int) -> bool:
    """Read and drop the rest of a request body; False if it went past ``limit`` bytes
    (the connection should then be closed) or the client left."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        size += len(message.get("body", b""))
        if size > limit:
            return False
        if not message.get("more_body", False):
            return True


async def wait_disconnect(receive: Receive) -> None:
    """Returns once the client has gone (after the body was fully read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def respond(
    send: Send,
    status: int,
    body: bytes = b"",
    content_type: bytes | None = JSON,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    raw = list(headers or [])
    if body and content_type is not None:
        raw.append((b"content-type", content_type))
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def method_not_allowed(send: Send, allow: bytes) -> None:
    await respond(send, 405, b"method not allowed\n", b"text/plain", [(b"allow", allow)])


async def start_sse(send: Send, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *(headers or [])]}
    )


def sse_event(data: bytes, event: bytes = b"message") -> bytes:
    """One SSE event; our JSON frames hold no newlines, so ``data`` is a single line."""
    return b"event: " + event + b"\ndata: " + data + b"\n\n"


async def sse_send(send: Send, chunk: bytes) -> bool:
    """Write to an open SSE stream; False once the client is gone."""
    try:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except OSError:
        return False
    return True


async def sse_end(send: Send) -> None:
    with contextlib.suppress(OSError):
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class LateStream:
    """A response that is one JSON body if it is ready soon, else an SSE stream.

    :meth:`start` (from a timer) opens the stream and sends a keepalive comment every
    ``every_s`` seconds, so proxies with idle time-outs keep the connection of a long call;
    :meth:`answer` then sends the answer as the stream's one event and ends it."""

    __slots__ = ("_every", "_headers", "_send", "_stop", "_task", "streaming")

    def __init__(self, send: Send, headers: list[tuple[bytes, bytes]], every_s: float) -> None:
        self._send = send
        self._headers = headers
        self._every = every_s
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.streaming = False

    def start(self) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._beat(self._stop))

    async def _beat(self, stop: asyncio.Event) -> None:
        self.streaming = True
        await start_sse(self._send, self._headers)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), self._every)
                return
            except TimeoutError:
                if not await sse_send(self._send, KEEPALIVE):
                    return

    async def answer(self, status: int, frame: bytes) -> None:
        if self._task is not None and self._stop is not None:
            self._stop.set()  # the stream's writes never overlap the answer's
            with contextlib.suppress(OSError):
                await self._task
        if not self.streaming:
            await respond(self._send, status, frame, headers=self._headers)
        elif await sse_send(self._send, sse_event(frame)):
            await sse_end(self._send)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
