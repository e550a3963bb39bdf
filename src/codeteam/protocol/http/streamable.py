"""Streamable HTTP at ``/mcp``: POST carries requests, GET opens a session's idle stream,
DELETE ends a session.

A call is answered as JSON unless the client asked for progress and accepts SSE; a client
that accepts both gets JSON from a quick call, and an SSE stream (keepalives, then the
answer) from one still running after ``--sse-after``, so proxies with idle time-outs do not
cut it. Hot path (a JSON-answered call): the call runs in the request's own task, with no
task of its own and no disconnect watcher unless it outlasts :data:`WATCH_AFTER_S`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from codeteam.protocol import jsonrpc
from codeteam.protocol.asgi import (
    LateStream,
    Receive,
    Send,
    method_not_allowed,
    respond,
    sse_end,
    sse_event,
    sse_send,
    start_sse,
    wait_disconnect,
)
from codeteam.protocol.dispatcher import Answer, Call, run_batch, track
from codeteam.protocol.http.refusal import Refused
from codeteam.protocol.http.sessions import HttpSession

if TYPE_CHECKING:
    from codeteam.protocol.http.app import McpApp

#: A JSON-answered call still running after this long gets a task watching for the
#: client's disconnect (which cancels it); quicker calls never pay for one.
WATCH_AFTER_S = 0.05
SESSION_HEADER = b"mcp-session-id"
Headers = list[tuple[bytes, bytes]]


class InlineCall:
    """A call running in its request's task, as :attr:`Session.calls` holds it: cancelling
    it cancels that task, marked as requested so the task can tell it from other causes.

    Once it outlasts :data:`WATCH_AFTER_S` it watches for the client's disconnect and, for
    a client accepting SSE, schedules its answer's switch to a :class:`LateStream`."""

    __slots__ = ("client_gone", "requested", "stream", "stream_timer", "task", "watcher")

    def __init__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self.requested = False
        self.client_gone = False
        self.watcher: asyncio.Task[None] | None = None
        self.stream: LateStream | None = None
        self.stream_timer: asyncio.TimerHandle | None = None

    def cancel(self) -> None:
        if not self.requested:  # once: the task uncancels once
            self.requested = True
            self.task.cancel()

    def watch(self, receive: Receive, stream: LateStream | None, stream_after_s: float) -> None:
        self.watcher = asyncio.ensure_future(self._watch(receive))
        if stream is not None:
            self.stream = stream
            loop = asyncio.get_running_loop()
            self.stream_timer = loop.call_later(max(0.0, stream_after_s), stream.start)

    async def _watch(self, receive: Receive) -> None:
        await wait_disconnect(receive)
        self.client_gone = True
        self.cancel()

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
        if self.stream_timer is not None:
            self.stream_timer.cancel()

    def drop_stream(self) -> None:
        """No answer will be sent (the client left, or the loop is torn down)."""
        if self.stream is not None:
            self.stream.cancel()


class StreamableHttp:
    """The ``/mcp`` endpoint of :class:`McpApp`."""

    def __init__(self, app: McpApp) -> None:
        self.app = app

    async def handle(
        self, method: str, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        if method == "POST":
            await self._post(receive, send, headers)
        elif method == "GET":
            await self._get(receive, send, headers)
        elif method == "DELETE":
            await self._delete(send, headers)
        else:
            await method_not_allowed(send, b"GET, POST, DELETE")

    # ------------------------------------------------------------------ POST

    async def _post(self, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        app = self.app
        accept = headers.get("accept", "*/*")
        wants_json = "application/json" in accept or "*/*" in accept
        wants_sse = "text/event-stream" in accept
        if not (wants_json or wants_sse):
            raise Refused(
                406,
                jsonrpc.INVALID_REQUEST,
                "Not Acceptable: accept application/json or text/event-stream",
            )
        body = await app.body(receive, send)
        if body is None:
            return
        parsed = jsonrpc.parse_frame(body)
        if parsed.error is not None:
            await respond(send, 400, parsed.error)
            return
        message = parsed.message
        session = app.sessions.for_post(message, headers)
        extra = [(SESSION_HEADER, session.id.encode())] if session.id else []
        if isinstance(message, list):
            answer = await run_batch(app.dispatcher, message, session, None)
            await _send_answer(send, answer, extra, wants_json)
            return
        routed = app.route(message, session)
        if isinstance(routed, Answer):
            if message.get("method") == "initialize" and session.version is not None:
                app.sessions.register(session)
            await _send_answer(send, routed, extra, wants_json)
            return
        if wants_sse and (routed.progress_token is not None or not wants_json):
            await self._call_sse(receive, send, routed, session, extra)
        else:
            await self._call_json(receive, send, routed, session, extra, wants_sse)

    async def _call_json(
        self,
        receive: Receive,
        send: Send,
        call: Call,
        session: HttpSession,
        extra: Headers,
        wants_sse: bool,
    ) -> None:
        """Run the call in this task and answer it as one JSON response or, if the client
        accepts SSE and the call outlasts ``sse_after_s``, as an SSE stream (keepalives,
        then the answer)."""
        app = self.app
        handle = InlineCall()
        session.calls[call.id_json] = handle
        app.running.add(handle)
        stream = LateStream(send, extra, app.keepalive_s) if wants_sse else None
        timer = asyncio.get_running_loop().call_later(
            WATCH_AFTER_S, handle.watch, receive, stream, app.sse_after_s - WATCH_AFTER_S
        )
        try:
            frame = await app.dispatcher.run(call, None)
        except asyncio.CancelledError:
            if not handle.requested:
                handle.drop_stream()
                raise  # not ours (the event loop itself is being torn down)
            handle.task.uncancel()
            if handle.client_gone:
                handle.drop_stream()
                return  # nobody to answer
            # notifications/cancelled, the session ended, or the server is stopping
            frame = app.stopped(call)
        finally:
            timer.cancel()
            handle.stop_watching()
            app.running.discard(handle)
            if session.calls.get(call.id_json) is handle:
                del session.calls[call.id_json]
        if handle.stream is None:
            await respond(send, 200, frame, headers=extra)
        else:
            await handle.stream.answer(200, frame)

    async def _call_sse(
        self, receive: Receive, send: Send, call: Call, session: HttpSession, extra: Headers
    ) -> None:
        app = self.app
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def notify(frame: bytes) -> None:
            queue.put_nowait(frame)

        task = asyncio.ensure_future(app.run(call, notify))
        track(session, call, task)
        app.running.add(task)
        task.add_done_callback(app.running.discard)
        task.add_done_callback(queue.put_nowait)
        await start_sse(send, extra)
        await app.pump(send, receive, queue, session, task)

    # ------------------------------------------------------------------ GET, DELETE

    async def _get(self, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        session = self.app.sessions.existing(headers)
        if "text/event-stream" not in headers.get("accept", ""):
            raise Refused(
                406,
                jsonrpc.INVALID_REQUEST,
                "Not Acceptable: GET opens an SSE stream; accept text/event-stream",
            )
        await start_sse(send, [(SESSION_HEADER, session.id.encode())])
        await self.app.pump(send, receive, asyncio.Queue(), session, None)

    async def _delete(self, send: Send, headers: dict[str, str]) -> None:
        session = self.app.sessions.existing(headers)
        self.app.sessions.streamable.pop(session.id, None)
        session.close()
        await respond(send, 204)


async def _send_answer(send: Send, answer: Answer, extra: Headers, wants_json: bool) -> None:
    if answer.frame is None:
        await respond(send, 202, headers=extra)
    elif wants_json or answer.status != 200:
        await respond(send, answer.status, answer.frame, headers=extra)
    else:
        await start_sse(send, extra)
        await sse_send(send, sse_event(answer.frame))
        await sse_end(send)
