"""The legacy HTTP+SSE transport (2024-11-05): ``GET /sse`` opens a session's stream and
names its ``/messages`` endpoint; each POST there is accepted at once (202) and answered
on the stream."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from codeteam.protocol import jsonrpc
from codeteam.protocol.asgi import (
    Receive,
    Scope,
    Send,
    method_not_allowed,
    respond,
    sse_event,
    sse_send,
    start_sse,
)
from codeteam.protocol.dispatcher import Answer, Call, Notify, run_batch, track
from codeteam.protocol.http.sessions import HttpSession, new_session

if TYPE_CHECKING:
    from codeteam.protocol.http.app import McpApp


class LegacySse:
    """The ``/sse`` and ``/messages`` endpoints of :class:`McpApp`."""

    def __init__(self, app: McpApp) -> None:
        self.app = app

    async def handle(
        self, path: str, method: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if path == "/sse":
            if method == "GET":
                await self._open(scope, receive, send)
            else:
                await method_not_allowed(send, b"GET")
        elif method == "POST":
            await self._post(scope, receive, send)
        else:
            await method_not_allowed(send, b"POST")

    async def _open(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = new_session()
        self.app.sessions.legacy[session.id] = session
        queue: asyncio.Queue[Any] = asyncio.Queue()
        session.streams.add(queue)
        endpoint = f"{scope.get('root_path', '')}/messages?session_id={session.id}".encode()
        try:
            await start_sse(send)
            if await sse_send(send, sse_event(endpoint, b"endpoint")):
                await self.app.pump(send, receive, queue, session, None)
        finally:
            self.app.sessions.legacy.pop(session.id, None)
            session.close()

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.app
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        session_id = (query.get("session_id") or query.get("sessionId") or [""])[0]
        session = app.sessions.legacy_session(session_id)
        body = await app.body(receive, send)
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
            app.background(self._batch(parsed.message, session, notify))
            return
        routed = app.route(parsed.message, session)
        if isinstance(routed, Answer):
            if routed.frame is not None:
                stream.put_nowait(routed.frame)
            return
        task = app.background(self._call(routed, notify))
        track(session, routed, task)

    async def _call(self, call: Call, notify: Notify) -> None:
        await notify(await self.app.run(call, notify))

    async def _batch(self, items: list[Any], session: HttpSession, notify: Notify) -> None:
        answer = await run_batch(self.app.dispatcher, items, session, notify)
        if answer.frame is not None:
            await notify(answer.frame)
