"""Sessions of the HTTP transports, and which session (if any) a request belongs to.

A Streamable HTTP request is in a 2025-11-25-style session (``Mcp-Session-Id``, opened by
``initialize``) or is one stateless 2026-07-28 exchange whose routing headers must agree with
its body; a legacy SSE connection is a session of its own. A request that fits none of
these raises :class:`Refused` saying why.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections import OrderedDict
from typing import Any

from codeteam.protocol import jsonrpc
from codeteam.protocol.dispatcher import Session
from codeteam.protocol.http.refusal import Refused
from codeteam.protocol.versions import (
    ALL_VERSIONS,
    HANDSHAKE_VERSIONS,
    META_PROTOCOL_VERSION,
    MODERN_VERSIONS,
    is_modern,
)

MAX_SESSIONS = 10_000
#: Sent on a stream's queue when the stream must end (client gone, session deleted, shutdown).
CLOSE = object()
_NOT_FOUND = "Session not found: it ended or never existed; send initialize again"
_NO_SESSION = "Bad Request: no Mcp-Session-Id header; send initialize first"


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
            queue.put_nowait(CLOSE)


def new_session() -> HttpSession:
    return HttpSession(id=secrets.token_hex(16))


class Sessions:
    """The open sessions of both transports, in memory; the oldest Streamable HTTP
    session is dropped past :data:`MAX_SESSIONS`."""

    def __init__(self) -> None:
        self.streamable: OrderedDict[str, HttpSession] = OrderedDict()
        self.legacy: dict[str, HttpSession] = {}

    def all(self) -> list[HttpSession]:
        return [*self.streamable.values(), *self.legacy.values()]

    def register(self, session: HttpSession) -> None:
        self.streamable[session.id] = session
        while len(self.streamable) > MAX_SESSIONS:
            _, evicted = self.streamable.popitem(last=False)
            evicted.close()

    def for_post(self, message: Any, headers: dict[str, str]) -> HttpSession:
        """The session a POST to ``/mcp`` belongs to (a new one for ``initialize`` or a
        stateless request)."""
        request_id = message.get("id") if isinstance(message, dict) else None
        version = headers.get("mcp-protocol-version")
        if isinstance(message, dict) and message.get("method") == "initialize":
            return new_session()
        session_id = headers.get("mcp-session-id")
        if session_id is not None:
            session = self.streamable.get(session_id)
            if session is None:
                raise Refused(404, jsonrpc.INVALID_REQUEST, _NOT_FOUND, request_id=request_id)
            if version is not None and version not in HANDSHAKE_VERSIONS:
                raise _unsupported(version, request_id)
            self.streamable.move_to_end(session_id)
            return session
        if version is not None and version not in ALL_VERSIONS:
            raise _unsupported(version, request_id)
        if is_modern(message):
            problem = _mismatch(message, headers)
            if problem is not None:
                raise Refused(
                    400,
                    jsonrpc.HEADER_MISMATCH,
                    f"Header mismatch: {problem}",
                    request_id=request_id,
                )
            return HttpSession()
        if version in MODERN_VERSIONS:
            raise Refused(
                400,
                jsonrpc.INVALID_PARAMS,
                f"Invalid params: a {version} request needs params._meta "
                f"{META_PROTOCOL_VERSION} and clientCapabilities",
                request_id=request_id,
            )
        raise Refused(
            400,
            jsonrpc.INVALID_REQUEST,
            f"{_NO_SESSION} (or use 2026-07-28 per-request _meta)",
            request_id=request_id,
        )

    def existing(self, headers: dict[str, str]) -> HttpSession:
        """The Streamable HTTP session a GET or DELETE names."""
        session_id = headers.get("mcp-session-id")
        if session_id is None:
            if headers.get("mcp-protocol-version") in MODERN_VERSIONS:
                raise Refused(
                    405,
                    jsonrpc.INVALID_REQUEST,
                    "2026-07-28 has no sessions: GET and DELETE are not used",
                )
            raise Refused(400, jsonrpc.INVALID_REQUEST, _NO_SESSION)
        session = self.streamable.get(session_id)
        if session is None:
            raise Refused(404, jsonrpc.INVALID_REQUEST, _NOT_FOUND)
        return session

    def legacy_session(self, session_id: str) -> HttpSession:
        """The legacy SSE connection a POST to ``/messages`` names."""
        session = self.legacy.get(session_id)
        if session is None:
            raise Refused(
                404,
                jsonrpc.INVALID_REQUEST,
                "unknown session_id: open GET /sse first and use its endpoint",
            )
        return session


def _unsupported(version: str, request_id: Any) -> Refused:
    return Refused(
        400,
        jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
        f"Unsupported MCP-Protocol-Version header {version[:40]!r}",
        {"supported": list(ALL_VERSIONS), "requested": version},
        request_id=request_id,
    )


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
