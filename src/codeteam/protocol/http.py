"""HTTP transports on one plain ASGI app: Streamable HTTP at ``/mcp`` and the legacy
HTTP+SSE transport (2024-11-05) at ``/sse`` + ``/messages``.

Streamable HTTP serves both eras: a request whose ``_meta`` carries a 2026-07-28 version is
a stateless single exchange (headers checked against the body); ``initialize`` opens a
2025-11-25-style session (``Mcp-Session-Id``; GET opens its idle stream, DELETE ends it).
A call is answered as JSON unless the client asked for progress and accepts SSE; a client
that accepts both gets JSON from a quick call, and an SSE stream (keepalives, then the
answer) from one still running after ``--sse-after``, so proxies with idle time-outs do not
cut it. Every SSE stream sends a keepalive comment when idle; a client that disconnects
cancels its call. On shutdown every running call answers that the server is stopping.

Hot path (a JSON-answered call): the call runs in the request's own task, with no task of
its own and no disconnect watcher unless it outlasts :data:`WATCH_AFTER_S`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import secrets
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from codeteam.config import Settings
from codeteam.protocol import jsonrpc
from codeteam.protocol.asgi import (
    KEEPALIVE,
    Disconnected,
    LateStream,
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
    start_sse,
    wait_disconnect,
)
from codeteam.protocol.dispatcher import (
    Answer,
    Call,
    Dispatcher,
    Session,
    run_batch,
    track,
)
from codeteam.protocol.security import Guard
from codeteam.protocol.signals import ignore_stop_signals
from codeteam.protocol.versions import (
    ALL_VERSIONS,
    HANDSHAKE_VERSIONS,
    META_PROTOCOL_VERSION,
    MODERN_VERSIONS,
)

MAX_SESSIONS = 10_000
#: A JSON-answered call still running after this long gets a task watching for the
#: client's disconnect (which cancels it); quicker calls never pay for one.
WATCH_AFTER_S = 0.05
SESSION_HEADER = b"mcp-session-id"
#: On SIGTERM/SIGINT: how long running calls get to be stopped and answer (their sandboxes
#: killed and swept), then how long answers still being written get; with the sandbox's
#: own clean-up this stays within the 10 s a supervisor such as systemd or Kubernetes waits.
DRAIN_S = 4.0
GRACE_S = 2
#: Sent on a stream's queue when the stream must end (client gone, session deleted, shutdown).
_CLOSE = object()


class HttpSession(Session):
    """A 2025-11-25 Streamable HTTP session or a legacy SSE connection."""

    __slots__ = ("streams",)

    def __init__(self, id: str = "") -> None:
        super().__init__(id)
        #: queues of this session's open SSE streams (closed with the session)
        self.streams: set[asyncio.Queue[Any]] = set()

    def close(self) -> None:
        self.cancel_all()
        for queue in list(self.streams):
            queue.put_nowait(_CLOSE)


def _decode_header_value(value: str | None) -> str | None:
    """Undo the spec's ``=?base64?...?=`` sentinel encoding of a header value."""
    if value is None or not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    try:
        return base64.b64decode(value[9:-2], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _mismatch(message: Any, headers: dict[str, str]) -> str | None:
    """Why a stateless request's routing headers disagree with its body, if they do."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    version = meta.get(META_PROTOCOL_VERSION) if isinstance(meta, dict) else None
    if headers.get("mcp-protocol-version") != version:
        return "MCP-Protocol-Version header does not match params._meta protocolVersion"
    if headers.get("mcp-method") != message.get("method"):
        return "Mcp-Method header does not match the body's method"
    if message.get("method") == "tools/call" and isinstance(params, dict):
        name = params.get("name")
        if name is not None and _decode_header_value(headers.get("mcp-name")) != name:
            return "Mcp-Name header does not match the body's tool name"
    return None


class _InlineCall:
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


def _is_modern(message: Any) -> bool:
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and META_PROTOCOL_VERSION in meta


class McpApp:
    """The ASGI application. One per server; sessions live in memory."""

    def __init__(self, dispatcher: Dispatcher, settings: Settings, max_body: int) -> None:
        self.dispatcher = dispatcher
        self.keepalive_s = settings.keepalive_s
        self.max_body = max_body
        self.guard = Guard(settings)
        self.sessions: OrderedDict[str, HttpSession] = OrderedDict()
        self.sse_sessions: dict[str, HttpSession] = {}
        self._open: set[asyncio.Queue[Any]] = set()
        self.sse_after_s = settings.sse_after_s
        self.closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        #: every running call of every session, stateless ones included (for shutdown)
        self._running: set[_InlineCall | asyncio.Future[bytes]] = set()

    # ------------------------------------------------------------------ entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        headers = header_map(scope)
        refusal = self.guard.check(headers)
        if refusal is not None:
            body = jsonrpc.error_frame(None, jsonrpc.INVALID_REQUEST, refusal.message)
            await respond(send, refusal.status, body, headers=list(refusal.headers))
            return
        path, method = scope["path"], scope["method"]
        try:
            if path in ("/mcp", "/mcp/"):
                if method == "POST":
                    await self._mcp_post(receive, send, headers)
                elif method == "GET":
                    await self._mcp_get(receive, send, headers)
                elif method == "DELETE":
                    await self._mcp_delete(send, headers)
                else:
                    await self._not_allowed(send, b"GET, POST, DELETE")
            elif path == "/sse":
                if method == "GET":
                    await self._sse_open(scope, receive, send)
                else:
                    await self._not_allowed(send, b"GET")
            elif path == "/messages" or path == "/messages/":
                if method == "POST":
                    await self._sse_post(scope, receive, send)
                else:
                    await self._not_allowed(send, b"POST")
            else:
                await respond(
                    send, 404, b"not found: the MCP endpoint is /mcp (or /sse)\n", b"text/plain"
                )
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

    def begin_shutdown(self) -> None:
        """Cancel every call (their sandboxes die) and end every stream at once."""
        self._stop_calls()
        for queue in list(self._open):
            queue.put_nowait(_CLOSE)

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
        for session in [*self.sessions.values(), *self.sse_sessions.values()]:
            session.cancel_all()
        pending: list[asyncio.Future[Any]] = list(self._tasks)
        for call in list(self._running):
            call.cancel()
            pending.append(call.task if isinstance(call, _InlineCall) else call)
        return pending

    async def aclose(self) -> None:
        self.begin_shutdown()
        await self.dispatcher.aclose()

    def _stopped(self, call: Call) -> bytes:
        """The answer to a call cancelled by the client (or its session's end), or by the
        server's shutdown."""
        if self.closing:
            return jsonrpc.stopping_frame(call.request_id)
        return jsonrpc.error_frame(call.request_id, jsonrpc.REQUEST_CANCELLED, "Request cancelled")

    def _route(self, message: Any, session: HttpSession) -> Answer | Call:
        """The dispatcher's routing, except that a call arriving while the server stops is
        answered at once with the stopping error instead of starting."""
        routed = self.dispatcher.route(message, session)
        if isinstance(routed, Call) and self.closing:
            return Answer(jsonrpc.stopping_frame(routed.request_id))
        return routed

    async def _run(self, call: Call, notify: Any) -> bytes:
        """A call run in a task of its own: its answer, or that the server stopped it."""
        try:
            return await self.dispatcher.run(call, notify)
        except asyncio.CancelledError:
            if not self.closing:
                raise
            return jsonrpc.stopping_frame(call.request_id)

    @staticmethod
    async def _not_allowed(send: Send, allow: bytes) -> None:
        await respond(send, 405, b"method not allowed\n", b"text/plain", [(b"allow", allow)])

    @staticmethod
    async def _error(
        send: Send, status: int, request_id: Any, code: int, message: str, data: Any = None
    ) -> None:
        await respond(send, status, jsonrpc.error_frame(request_id, code, message, data))

    # ------------------------------------------------------------------ /mcp POST

    async def _body(self, receive: Receive, send: Send) -> bytes | None:
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

    async def _mcp_post(self, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        accept = headers.get("accept", "*/*")
        wants_json = "application/json" in accept or "*/*" in accept
        wants_sse = "text/event-stream" in accept
        if not (wants_json or wants_sse):
            await self._error(
                send,
                406,
                None,
                jsonrpc.INVALID_REQUEST,
                "Not Acceptable: accept application/json or text/event-stream",
            )
            return
        body = await self._body(receive, send)
        if body is None:
            return
        parsed = jsonrpc.parse_frame(body)
        if parsed.error is not None:
            await respond(send, 400, parsed.error)
            return
        message = parsed.message
        session = self._session_for(message, headers)
        if not isinstance(session, HttpSession):
            status, code, text, data = session
            request_id = message.get("id") if isinstance(message, dict) else None
            await self._error(
                send, status, request_id if jsonrpc.valid_id(request_id) else None, code, text, data
            )
            return
        extra = [(SESSION_HEADER, session.id.encode())] if session.id else []
        if isinstance(message, list):
            answer = await run_batch(self.dispatcher, message, session, None)
            await self._send_answer(send, answer, extra, wants_json)
            return
        routed = self._route(message, session)
        if isinstance(routed, Answer):
            if message.get("method") == "initialize" and session.version is not None:
                self._register(session)
            await self._send_answer(send, routed, extra, wants_json)
            return
        if wants_sse and (routed.progress_token is not None or not wants_json):
            await self._call_sse(receive, send, routed, session, extra)
        else:
            await self._call_json(receive, send, routed, session, extra, wants_sse)

    def _session_for(
        self, message: Any, headers: dict[str, str]
    ) -> HttpSession | tuple[int, int, str, Any]:
        """The session a POST belongs to, or why it cannot be served
        (status, JSON-RPC code, message, data)."""
        version = headers.get("mcp-protocol-version")
        if isinstance(message, dict) and message.get("method") == "initialize":
            return HttpSession(id=secrets.token_hex(16))
        session_id = headers.get("mcp-session-id")
        if session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                return (
                    404,
                    jsonrpc.INVALID_REQUEST,
                    "Session not found: it ended or never existed; send initialize again",
                    None,
                )
            if version is not None and version not in HANDSHAKE_VERSIONS:
                return (
                    400,
                    jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
                    f"Unsupported MCP-Protocol-Version header {version[:40]!r}",
                    {"supported": list(ALL_VERSIONS), "requested": version},
                )
            self.sessions.move_to_end(session_id)
            return session
        if version is not None and version not in ALL_VERSIONS:
            return (
                400,
                jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
                f"Unsupported MCP-Protocol-Version header {version[:40]!r}",
                {"supported": list(ALL_VERSIONS), "requested": version},
            )
        if _is_modern(message):
            problem = _mismatch(message, headers)
            if problem is not None:
                return (400, jsonrpc.HEADER_MISMATCH, f"Header mismatch: {problem}", None)
            return HttpSession()
        if version in MODERN_VERSIONS:
            return (
                400,
                jsonrpc.INVALID_PARAMS,
                f"Invalid params: a {version} request needs params._meta "
                f"{META_PROTOCOL_VERSION} and clientCapabilities",
                None,
            )
        return (
            400,
            jsonrpc.INVALID_REQUEST,
            "Bad Request: no Mcp-Session-Id header; send initialize first "
            "(or use 2026-07-28 per-request _meta)",
            None,
        )

    def _register(self, session: HttpSession) -> None:
        self.sessions[session.id] = session
        while len(self.sessions) > MAX_SESSIONS:
            _, evicted = self.sessions.popitem(last=False)
            evicted.close()

    async def _send_answer(
        self, send: Send, answer: Answer, extra: list[tuple[bytes, bytes]], wants_json: bool
    ) -> None:
        if answer.frame is None:
            await respond(send, 202, headers=extra)
        elif wants_json or answer.status != 200:
            await respond(send, answer.status, answer.frame, headers=extra)
        else:
            await start_sse(send, extra)
            await sse_send(send, sse_event(answer.frame))
            await sse_end(send)

    async def _call_json(
        self,
        receive: Receive,
        send: Send,
        call: Call,
        session: HttpSession,
        extra: list[tuple[bytes, bytes]],
        wants_sse: bool,
    ) -> None:
        """Run the call in this task and answer it as one JSON response or, if the client
        accepts SSE and the call outlasts ``sse_after_s``, as an SSE stream (keepalives,
        then the answer)."""
        handle = _InlineCall()
        session.calls[call.id_json] = handle
        self._running.add(handle)
        stream = LateStream(send, extra, self.keepalive_s) if wants_sse else None
        timer = asyncio.get_running_loop().call_later(
            WATCH_AFTER_S, handle.watch, receive, stream, self.sse_after_s - WATCH_AFTER_S
        )
        try:
            frame = await self.dispatcher.run(call, None)
        except asyncio.CancelledError:
            if not handle.requested:
                handle.drop_stream()
                raise  # not ours (the event loop itself is being torn down)
            handle.task.uncancel()
            if handle.client_gone:
                handle.drop_stream()
                return  # nobody to answer
            # notifications/cancelled, the session ended, or the server is stopping
            frame = self._stopped(call)
        finally:
            timer.cancel()
            handle.stop_watching()
            self._running.discard(handle)
            if session.calls.get(call.id_json) is handle:
                del session.calls[call.id_json]
        if handle.stream is None:
            await respond(send, 200, frame, headers=extra)
        else:
            await handle.stream.answer(200, frame)

    async def _call_sse(
        self,
        receive: Receive,
        send: Send,
        call: Call,
        session: HttpSession,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def notify(frame: bytes) -> None:
            queue.put_nowait(frame)

        task = asyncio.ensure_future(self._run(call, notify))
        track(session, call, task)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(queue.put_nowait)
        await start_sse(send, extra)
        await self._pump(send, receive, queue, session, task)

    async def _pump(
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
        watcher.add_done_callback(lambda _: queue.put_nowait(_CLOSE))
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
                if item is _CLOSE:
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

    # ------------------------------------------------------------------ /mcp GET, DELETE

    async def _mcp_get(self, receive: Receive, send: Send, headers: dict[str, str]) -> None:
        session = self._existing(headers)
        if not isinstance(session, HttpSession):
            await self._error(send, session[0], None, jsonrpc.INVALID_REQUEST, session[1])
            return
        if "text/event-stream" not in headers.get("accept", ""):
            await self._error(
                send,
                406,
                None,
                jsonrpc.INVALID_REQUEST,
                "Not Acceptable: GET opens an SSE stream; accept text/event-stream",
            )
            return
        await start_sse(send, [(SESSION_HEADER, session.id.encode())])
        await self._pump(send, receive, asyncio.Queue(), session, None)

    async def _mcp_delete(self, send: Send, headers: dict[str, str]) -> None:
        session = self._existing(headers)
        if not isinstance(session, HttpSession):
            await self._error(send, session[0], None, jsonrpc.INVALID_REQUEST, session[1])
            return
        self.sessions.pop(session.id, None)
        session.close()
        await respond(send, 204)

    def _existing(self, headers: dict[str, str]) -> HttpSession | tuple[int, str]:
        session_id = headers.get("mcp-session-id")
        if session_id is None:
            if headers.get("mcp-protocol-version") in MODERN_VERSIONS:
                return (405, "2026-07-28 has no sessions: GET and DELETE are not used")
            return (400, "Bad Request: no Mcp-Session-Id header; send initialize first")
        session = self.sessions.get(session_id)
        if session is None:
            return (404, "Session not found: it ended or never existed; send initialize again")
        return session

    # ------------------------------------------------------------------ legacy SSE

    async def _sse_open(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = HttpSession(id=secrets.token_hex(16))
        self.sse_sessions[session.id] = session
        queue: asyncio.Queue[Any] = asyncio.Queue()
        session.streams.add(queue)
        endpoint = f"{scope.get('root_path', '')}/messages?session_id={session.id}".encode()
        try:
            await start_sse(send)
            if await sse_send(send, sse_event(endpoint, b"endpoint")):
                await self._pump(send, receive, queue, session, None)
        finally:
            self.sse_sessions.pop(session.id, None)
            session.close()

    async def _sse_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        session_id = (query.get("session_id") or query.get("sessionId") or [""])[0]
        session = self.sse_sessions.get(session_id)
        if session is None:
            await self._error(
                send,
                404,
                None,
                jsonrpc.INVALID_REQUEST,
                "unknown session_id: open GET /sse first and use its endpoint",
            )
            return
        body = await self._body(receive, send)
        if body is None:
            return
        await respond(send, 202, b"Accepted", b"text/plain")
        stream = next(iter(session.streams), None)
        if stream is None:
            return

        async def notify(frame: bytes) -> None:
            stream.put_nowait(frame)

        parsed = jsonrpc.parse_frame(body)
        if parsed.error is not None:
            stream.put_nowait(parsed.error)
            return
        if isinstance(parsed.message, list):
            self._background(self._sse_batch(parsed.message, session, notify))
            return
        routed = self._route(parsed.message, session)
        if isinstance(routed, Answer):
            if routed.frame is not None:
                stream.put_nowait(routed.frame)
            return
        task = self._background(self._sse_call(routed, notify))
        track(session, routed, task)

    async def _sse_call(self, call: Call, notify: Any) -> None:
        await notify(await self._run(call, notify))

    async def _sse_batch(self, items: list[Any], session: HttpSession, notify: Any) -> None:
        answer = await run_batch(self.dispatcher, items, session, notify)
        if answer.frame is not None:
            await notify(answer.frame)

    def _background(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def serve_http(dispatcher: Dispatcher, settings: Settings, max_body: int) -> int:
    """Run uvicorn (httptools + uvloop when present) until SIGINT/SIGTERM."""
    import gc

    import uvicorn

    dispatcher.preload()
    app = McpApp(dispatcher, settings, max_body)
    # Everything allocated so far lives as long as the server: keep it out of the cyclic
    # collector's scans, which otherwise walk it again and again under load.
    gc.collect()
    gc.freeze()

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            for server in getattr(self, "servers", ()):
                server.close()  # no new connections while the running calls answer
            # every call answers, and every stream ends, so uvicorn waits on none of them
            await app.drain(DRAIN_S)
            await super().shutdown(sockets)
            await app.aclose()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                # uvicorn re-raises the signal once shut down (the process then dies of
                # it); SIGINT/SIGTERM is how this server is meant to stop: exit 0
                stopped = bool(self._captured_signals)
                self._captured_signals.clear()
            if stopped:
                ignore_stop_signals()

    _Server(uvicorn_config(app, settings)).run()  # exits the process itself if it cannot bind
    return 0


def uvicorn_config(app: Any, settings: Settings) -> Any:
    """uvicorn settings for serving ``app`` (the MCP app, or ``codeteam ui``'s): httptools
    and uvloop when installed ("auto"), no proxy-headers middleware (a layer per request; we
    bind loopback or sit behind a proxy we do not need addresses from), no access log."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACE_S,
    )
