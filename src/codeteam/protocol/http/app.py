"""The ASGI application both HTTP transports share: the request guard, routing by path,
the calls running in every session (stopped together on shutdown), and the SSE stream pump.
"""

from __future__ import annotations

import asyncio
from typing import Any

from codeteam.config import Settings
from codeteam.protocol import jsonrpc
from codeteam.protocol.asgi import (
    KEEPALIVE,
    Disconnected,
    Receive,
    Scope,
    Send,
    TooLarge,
    drain_body,
    header_map,
    read_body,
    respond,
    sse_end,
    sse_event,
    sse_send,
    wait_disconnect,
)
from codeteam.protocol.dispatcher import Answer, Call, Dispatcher, Notify
from codeteam.protocol.http.guard import Guard
from codeteam.protocol.http.legacy_sse import LegacySse
from codeteam.protocol.http.refusal import Refused
from codeteam.protocol.http.sessions import CLOSE, HttpSession, Sessions
from codeteam.protocol.http.streamable import InlineCall, StreamableHttp


class McpApp:
    """The ASGI application. One per server; sessions live in memory."""

    def __init__(self, dispatcher: Dispatcher, settings: Settings, max_body: int) -> None:
        self.dispatcher = dispatcher
        self.keepalive_s = settings.keepalive_s
        self.sse_after_s = settings.sse_after_s
        self.max_body = max_body
        self.guard = Guard(settings)
        self.sessions = Sessions()
        self.closing = False
        self._open: set[asyncio.Queue[Any]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        #: every running call of every session, stateless ones included (for shutdown)
        self.running: set[InlineCall | asyncio.Future[bytes]] = set()
        self._streamable = StreamableHttp(self)
        self._legacy = LegacySse(self)

    # ------------------------------------------------------------------ entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        headers = header_map(scope)
        path, method = scope["path"], scope["method"]
        try:
            self.guard.check(headers)
            if path in ("/mcp", "/mcp/"):
                await self._streamable.handle(method, receive, send, headers)
            elif path in ("/sse", "/messages", "/messages/"):
                await self._legacy.handle(path, method, scope, receive, send)
            else:
                await respond(
                    send, 404, b"not found: the MCP endpoint is /mcp (or /sse)\n", b"text/plain"
                )
        except Refused as refusal:
            await refusal.answer(send)
        except Disconnected:
            return

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.begin_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # ------------------------------------------------------------------ shutdown

    def begin_shutdown(self) -> None:
        """Cancel every call (their sandboxes die) and end every stream at once."""
        self._stop_calls()
        for queue in list(self._open):
            queue.put_nowait(CLOSE)

    async def drain(self, timeout_s: float) -> None:
        """Stop every running call and give each up to ``timeout_s`` to answer that the
        server is stopping (its sandbox killed and swept), then end every stream."""
        pending = self._stop_calls()
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        self.begin_shutdown()

    def _stop_calls(self) -> list[asyncio.Future[Any]]:
        """Cancel every running call; the tasks that will answer for them."""
        self.closing = True
        for session in self.sessions.all():
            session.cancel_all()
        pending: list[asyncio.Future[Any]] = list(self._tasks)
        for call in list(self.running):
            call.cancel()
            pending.append(call.task if isinstance(call, InlineCall) else call)
        return pending

    async def aclose(self) -> None:
        self.begin_shutdown()
        await self.dispatcher.aclose()

    # ------------------------------------------------------------------ shared by transports

    def stopped(self, call: Call) -> bytes:
        """The answer to a call cancelled by the client (or its session's end), or by the
        server's shutdown."""
        if self.closing:
            return jsonrpc.stopping_frame(call.request_id)
        return jsonrpc.error_frame(call.request_id, jsonrpc.REQUEST_CANCELLED, "Request cancelled")

    def route(self, message: Any, session: HttpSession) -> Answer | Call:
        """The dispatcher's routing, except that a call arriving while the server stops is
        answered at once with the stopping error instead of starting."""
        routed = self.dispatcher.route(message, session)
        if isinstance(routed, Call) and self.closing:
            return Answer(jsonrpc.stopping_frame(routed.request_id))
        return routed

    async def run(self, call: Call, notify: Notify | None) -> bytes:
        """A call run in a task of its own: its answer, or that the server stopped it."""
        try:
            return await self.dispatcher.run(call, notify)
        except asyncio.CancelledError:
            if not self.closing:
                raise
            return jsonrpc.stopping_frame(call.request_id)

    def background(self, coro: Any) -> asyncio.Task[None]:
        """A task the server waits for on shutdown."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def body(self, receive: Receive, send: Send) -> bytes | None:
        """The request body, or None once a 413 has been sent for an oversize one."""
        try:
            return await read_body(receive, self.max_body)
        except TooLarge:
            # Drain what the client is still sending so it reads our answer (closing now
            # would reset the connection under it); a body far past the cap gets closed on.
            drained = await drain_body(receive, 4 * self.max_body)
            frame = jsonrpc.error_frame(
                None,
                jsonrpc.INVALID_REQUEST,
                f"request body larger than {self.max_body} bytes; send less",
            )
            close = [] if drained else [(b"connection", b"close")]
            await respond(send, 413, frame, headers=close)
            return None

    async def pump(
        self,
        send: Send,
        receive: Receive,
        queue: asyncio.Queue[Any],
        session: HttpSession | None,
        task: asyncio.Future[bytes] | None,
    ) -> None:
        """Feed one SSE stream from ``queue`` until the call ends or the stream must close;
        keepalive comments while idle; a disconnect cancels the call."""
        watcher = asyncio.ensure_future(wait_disconnect(receive))
        watcher.add_done_callback(lambda _: queue.put_nowait(CLOSE))
        self._open.add(queue)
        if session is not None:
            session.streams.add(queue)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.keepalive_s)
                except TimeoutError:
                    if not await sse_send(send, KEEPALIVE):
                        break
                    continue
                if item is CLOSE:
                    break
                if isinstance(item, bytes):
                    if not await sse_send(send, sse_event(item)):
                        break
                elif item is task:  # the call finished
                    if not task.cancelled():
                        await sse_send(send, sse_event(task.result()))
                    break
        finally:
            watcher.cancel()
            self._open.discard(queue)
            if session is not None:
                session.streams.discard(queue)
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait((task,))
            await sse_end(send)
