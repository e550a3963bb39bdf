"""A TCP proxy that cuts a connection through which nothing has passed for ``idle_s``:
what nginx's ``proxy_read_timeout``, haproxy's ``timeout server`` or a cloud load
balancer's idle time-out do to a long request whose response has not come yet."""

from __future__ import annotations

import asyncio
import contextlib
import socket


class IdleProxy:
    def __init__(self, upstream_port: int, idle_s: float) -> None:
        self.upstream_port = upstream_port
        self.idle_s = idle_s
        self.cut = 0  # connections closed for idling
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> IdleProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        sock: socket.socket = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        loop = asyncio.get_running_loop()
        last = [loop.time()]

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await r.read(65536):
                    last[0] = loop.time()
                    w.write(data)
                    await w.drain()

        pipes = [
            asyncio.ensure_future(pipe(client_r, up_w)),
            asyncio.ensure_future(pipe(up_r, client_w)),
        ]
        try:
            while not any(p.done() for p in pipes):
                idle = loop.time() - last[0]
                if idle >= self.idle_s:
                    self.cut += 1
                    break
                await asyncio.wait(pipes, timeout=self.idle_s - idle, return_when="FIRST_COMPLETED")
        finally:
            for p in pipes:
                p.cancel()
            for w in (client_w, up_w):
                w.close()
