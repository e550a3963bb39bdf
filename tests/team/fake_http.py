"""A real HTTP server on loopback for fake model APIs: a small ASGI app on uvicorn in a
thread, recording every request with timestamps."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any
    started: float
    finished: float = 0.0
    status: int = 0


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | AsyncIterator[bytes] = b""


Handler = Callable[[Recorded], Awaitable[HttpResponse]]


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        status,
        {"content-type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


class FakeHTTPServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self._app, lifespan="off", log_level="warning", access_log=False, interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]})

    def __enter__(self) -> FakeHTTPServer:
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        rec = Recorded(scope["path"], headers, body, time.time())
        with self._lock:
            self.requests.append(rec)
        resp = await self.handler(rec)
        rec.status = resp.status
        await send(
            {
                "type": "http.response.start",
                "status": resp.status,
                "headers": [(k.encode(), v.encode()) for k, v in resp.headers.items()],
            }
        )
        if isinstance(resp.body, bytes):
            await send({"type": "http.response.body", "body": resp.body})
        else:
            async for part in resp.body:
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        rec.finished = time.time()
