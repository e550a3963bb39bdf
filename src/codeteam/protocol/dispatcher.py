"""The MCP core every transport shares: validate a message, answer it, or hand back a call.

:meth:`Dispatcher.route` is synchronous and imports nothing heavy, so ``initialize``,
``server/discover`` and ``tools/list`` are answered from precomputed JSON before asyncio
is even loaded. Only ``tools/call`` needs the event loop: ``route`` returns a :class:`Call`
and the transport awaits :meth:`Dispatcher.run` in its own task (so calls run
concurrently and can be cancelled one by one).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence

from codeteam import __version__
from codeteam.protocol import jsonrpc
from codeteam.protocol.catalog import ToolCatalog
from codeteam.protocol.jsonrpc import RpcError
from codeteam.protocol.versions import (
    ALL_VERSIONS,
    HANDSHAKE_VERSIONS,
    LATEST_HANDSHAKE,
    LOG_LEVELS,
    META_CLIENT_CAPABILITIES,
    META_PROTOCOL_VERSION,
    META_SERVER_INFO,
    MODERN_VERSIONS,
    is_modern,
)

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    from typing import Any

    from codeteam.config import Settings
    from codeteam.tools.base import ToolSpec

SERVER_INFO = {"name": "codeteam", "title": "codeteam code tools", "version": __version__}
#: On a tool result whose code ran on a cluster node (``--executor ray``): that node's id.
META_NODE = "codeteam/node"
INSTRUCTIONS = (
    "Sandboxed code tools for Python and Go: execute code, run tests, review code, and "
    "read/write files under the configured workspace roots."
)
#: Encoded results up to this size are kept per tool for reuse (see ``Dispatcher.run``).
REUSE_MAX_BYTES = 16 << 10
#: How long clients may cache tools/list and server/discover (2026-07-28 cache hints).
CACHE_TTL_MS = 300_000

#: HTTP status for an error answered to a stateless (2026-07-28) request.
MODERN_ERROR_STATUS = {
    jsonrpc.PARSE_ERROR: 400,
    jsonrpc.INVALID_REQUEST: 400,
    jsonrpc.INVALID_PARAMS: 400,
    jsonrpc.METHOD_NOT_FOUND: 404,
    jsonrpc.HEADER_MISMATCH: 400,
    jsonrpc.MISSING_CLIENT_CAPABILITY: 400,
    jsonrpc.UNSUPPORTED_PROTOCOL_VERSION: 400,
    jsonrpc.INTERNAL_ERROR: 500,
}

Notify = Callable[[bytes], Awaitable[None]]


class Session:
    """Per-connection state: stdio process, HTTP session, or one stateless HTTP exchange.

    Plain classes rather than dataclasses here: each dataclass costs ~1 ms at import,
    and this module is on the start-up path."""

    __slots__ = ("calls", "id", "initialized", "log_level", "version")

    def __init__(self, id: str = "") -> None:
        self.id = id
        self.version: str | None = None  # negotiated by initialize
        self.initialized = False
        self.log_level = "info"
        #: running tools/call tasks by encoded request id, for notifications/cancelled
        self.calls: dict[str, Any] = {}

    def cancel_all(self) -> None:
        for task in list(self.calls.values()):
            task.cancel()


class Answer:
    """A ready frame (or None for a notification) and the HTTP status it maps to."""

    __slots__ = ("frame", "status")

    def __init__(self, frame: bytes | None, status: int = 200) -> None:
        self.frame = frame
        self.status = status


class Call:
    """A validated tools/call waiting to run."""

    __slots__ = ("arguments", "id_json", "modern", "progress_token", "request_id", "spec")

    def __init__(
        self,
        id_json: str,
        request_id: Any,
        spec: ToolSpec,
        arguments: Any,
        progress_token: Any,
        modern: bool,
    ) -> None:
        self.id_json = id_json
        self.request_id = request_id
        self.spec = spec
        self.arguments = arguments
        self.progress_token = progress_token
        self.modern = modern


class CallContext:
    """The :class:`codeteam.tools.base.ToolContext` a tool sees: settings, services, progress."""

    __slots__ = ("_dispatcher", "_notify", "_token")

    def __init__(self, dispatcher: Dispatcher, token: Any, notify: Notify | None) -> None:
        self._dispatcher = dispatcher
        self._token = token
        self._notify = notify

    @property
    def settings(self) -> Settings:
        return self._dispatcher.settings

    @property
    def services(self) -> Any:
        return self._dispatcher.services

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        if self._token is None or self._notify is None:
            return
        params: dict[str, Any] = {"progressToken": self._token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        try:
            frame = jsonrpc.notification_frame("notifications/progress", params)
        except ValueError:  # NaN progress from a tool: drop it rather than fail the call
            return
        await self._notify(frame)


def _tool_result(text: str, structured: Any, is_error: bool) -> dict[str, Any]:
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": structured,
        "isError": is_error,
    }


class Dispatcher:
    """Answers MCP messages for one tool catalog; shared by every transport and session.

    ``settings`` may be a function returning them: the stdio transport answers the
    handshake and ``tools/list`` before paying for loading (and validating) the settings,
    and forces them with :meth:`settle` right after."""

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        tools: Sequence[ToolSpec] | ToolCatalog,
        services_factory: Callable[[Settings], Any] | None = None,
    ) -> None:
        self._settings = settings if not callable(settings) else None
        self._settings_loader = settings if callable(settings) else None
        self.catalog = tools if isinstance(tools, ToolCatalog) else ToolCatalog.of(tools)
        self._services_factory = services_factory
        self._services: Any = None
        self._server_meta = jsonrpc.dumps({META_SERVER_INFO: SERVER_INFO})
        #: per tool, its last (small) outcome and that outcome's encoded result: a tool
        #: answering from a cache returns the same outcome again and is not re-encoded
        self._encoded: dict[str, tuple[Any, str]] = {}
        self._listed = ""
        self._tools_legacy = self._tools_modern = ""
        self._list_frames()
        self._discover = jsonrpc.dumps(
            {
                "supportedVersions": list(ALL_VERSIONS),
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": SERVER_INFO,
                "instructions": INSTRUCTIONS,
                "resultType": "complete",
                "ttlMs": CACHE_TTL_MS,
                "cacheScope": "public",
                "_meta": {META_SERVER_INFO: SERVER_INFO},
            }
        )
        self._initialize = {
            v: jsonrpc.dumps(
                {
                    "protocolVersion": v,
                    "capabilities": {"tools": {"listChanged": False}, "logging": {}},
                    "serverInfo": SERVER_INFO,
                    "instructions": INSTRUCTIONS,
                }
            )
            for v in HANDSHAKE_VERSIONS
        }
        self._empty_legacy = "{}"
        self._empty_modern = jsonrpc.dumps(
            {"resultType": "complete", "_meta": {META_SERVER_INFO: SERVER_INFO}}
        )

    def _list_frames(self) -> None:
        """tools/list results spliced around the catalog's listing JSON (no re-encoding)."""
        listing = self.catalog.listing
        self._listed = listing
        self._tools_legacy = '{"tools":' + listing + "}"
        rest = jsonrpc.dumps(
            {
                "resultType": "complete",
                "ttlMs": CACHE_TTL_MS,
                "cacheScope": "public",
                "_meta": {META_SERVER_INFO: SERVER_INFO},
            }
        )
        self._tools_modern = '{"tools":' + listing + "," + rest[1:]

    # ------------------------------------------------------------------ settings, services

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self.settle()
        assert self._settings is not None
        return self._settings

    def settle(self) -> Settings:
        """Load the settings if they are still deferred. Raises ``ConfigError``."""
        if self._settings is None and self._settings_loader is not None:
            self._settings = self._settings_loader()
            self._settings_loader = None
        assert self._settings is not None
        return self._settings

    def preload(self) -> None:
        """Pay the one-time costs now (settings, tool modules, services) rather than in the
        first call: for a long-running server, where start-up time is not the point."""
        self.settle()
        self.catalog.load()
        if self.catalog.listing is not self._listed:
            self._list_frames()
        try:
            self.services  # noqa: B018 - created for its side effect
        except Exception as exc:  # the first call will report it to the client
            print(f"codeteam: tool services not ready yet: {exc}", file=sys.stderr)
            self._services = None

    @property
    def services(self) -> Any:
        """The long-lived tool services, created on the first tools/call (never at start-up)."""
        if self._services is None and self._services_factory is not None:
            self._services = self._services_factory(self.settings)
        return self._services

    async def aclose(self) -> None:
        """Release the services (the sandbox kills whatever still runs)."""
        services, self._services = self._services, None
        closer = getattr(services, "aclose", None)
        if closer is not None:
            await closer()

    # ------------------------------------------------------------------ routing

    def route(self, message: Any, session: Session) -> Answer | Call:
        """Validate one decoded message; answer it, or return the tools/call to run."""
        try:
            return self._route(message, session)
        except RpcError as exc:
            request_id = message.get("id") if isinstance(message, dict) else None
            is_notification = isinstance(message, dict) and "id" not in message
            if is_notification and exc.code != jsonrpc.INVALID_REQUEST:
                return Answer(None)  # well-formed notifications are never answered
            request_id = request_id if jsonrpc.valid_id(request_id) else None
            status = MODERN_ERROR_STATUS.get(exc.code, 400) if is_modern(message) else 200
            if exc.code in (jsonrpc.INVALID_REQUEST, jsonrpc.PARSE_ERROR):
                status = 400
            return Answer(jsonrpc.error_frame(request_id, exc.code, exc.message, exc.data), status)
        except Exception as exc:  # a bug here must not take the server down
            print(f"codeteam: internal error routing a message: {exc!r}", file=sys.stderr)
            request_id = message.get("id") if isinstance(message, dict) else None
            return Answer(
                jsonrpc.error_frame(
                    request_id if jsonrpc.valid_id(request_id) else None,
                    jsonrpc.INTERNAL_ERROR,
                    f"Internal error: {type(exc).__name__}; see the server log",
                ),
                500,
            )

    def _route(self, message: Any, session: Session) -> Answer | Call:
        if not isinstance(message, dict):
            raise RpcError(jsonrpc.INVALID_REQUEST, "Invalid Request: expected a JSON object")
        if message.get("jsonrpc") != "2.0":
            raise RpcError(jsonrpc.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
        method = message.get("method")
        is_request = "id" in message
        if is_request and not jsonrpc.valid_id(message["id"]):
            raise RpcError(
                jsonrpc.INVALID_REQUEST, "Invalid Request: id must be a string or an integer"
            )
        if not isinstance(method, str):
            if "result" in message or "error" in message:
                return Answer(None)  # a response: we never send requests, so nothing awaits it
            raise RpcError(jsonrpc.INVALID_REQUEST, 'Invalid Request: "method" must be a string')
        params = message.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise RpcError(jsonrpc.INVALID_PARAMS, "Invalid params: params must be an object")
        modern = self._check_envelope(params)
        if not is_request:
            self._notification(method, params, session)
            return Answer(None)
        id_json = jsonrpc.encode_id(message["id"])
        result = self._request(method, params, session, modern, id_json, message["id"])
        if isinstance(result, Call):
            return result
        return Answer(jsonrpc.result_frame(id_json, result))

    def _check_envelope(self, params: dict[str, Any]) -> bool:
        """True for a stateless-era request; raise for a malformed or unsupported envelope."""
        meta = params.get("_meta")
        if meta is None:
            return False
        if not isinstance(meta, dict):
            raise RpcError(jsonrpc.INVALID_PARAMS, "Invalid params: params._meta must be an object")
        if META_PROTOCOL_VERSION not in meta:
            return False
        version = meta[META_PROTOCOL_VERSION]
        if not isinstance(version, str):
            raise RpcError(
                jsonrpc.INVALID_PARAMS,
                f"Invalid params: _meta {META_PROTOCOL_VERSION} must be a string",
            )
        if version not in MODERN_VERSIONS:
            raise RpcError(
                jsonrpc.UNSUPPORTED_PROTOCOL_VERSION,
                "Unsupported protocol version",
                {"supported": list(ALL_VERSIONS), "requested": version},
            )
        if META_CLIENT_CAPABILITIES not in meta:
            raise RpcError(
                jsonrpc.INVALID_PARAMS,
                f"Invalid params: params._meta is missing {META_CLIENT_CAPABILITIES}",
            )
        return True

    def _notification(self, method: str, params: dict[str, Any], session: Session) -> None:
        if method == "notifications/initialized":
            session.initialized = True
        elif method == "notifications/cancelled":
            request_id = params.get("requestId")
            if jsonrpc.valid_id(request_id):
                task = session.calls.get(jsonrpc.encode_id(request_id))
                if task is not None:
                    task.cancel()
        # every other notification (progress, roots changed, unknown) needs nothing from us

    def _request(
        self,
        method: str,
        params: dict[str, Any],
        session: Session,
        modern: bool,
        id_json: str,
        request_id: Any,
    ) -> str | Call:
        if method == "tools/call":
            return self._tools_call(params, modern, id_json, request_id)
        if method == "tools/list":
            if params.get("cursor") is not None:
                raise RpcError(
                    jsonrpc.INVALID_PARAMS,
                    "Invalid params: unknown cursor; tools/list has one page",
                )
            return self._tools_modern if modern else self._tools_legacy
        if method == "initialize":
            requested = params.get("protocolVersion")
            if not isinstance(requested, str):
                raise RpcError(
                    jsonrpc.INVALID_PARAMS,
                    "Invalid params: initialize needs a protocolVersion string",
                )
            version = requested if requested in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE
            session.version = version
            return self._initialize[version]
        if method == "server/discover":
            if not modern:
                raise RpcError(
                    jsonrpc.INVALID_PARAMS,
                    f"Invalid params: server/discover needs params._meta {META_PROTOCOL_VERSION}",
                )
            return self._discover
        if method == "ping":
            return self._empty_modern if modern else self._empty_legacy
        if method == "logging/setLevel" and not modern:
            level = params.get("level")
            if level not in LOG_LEVELS:
                raise RpcError(
                    jsonrpc.INVALID_PARAMS,
                    f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}",
                )
            session.log_level = level
            return self._empty_legacy
        raise RpcError(jsonrpc.METHOD_NOT_FOUND, f"Method not found: {method[:100]}")

    def _tools_call(
        self, params: dict[str, Any], modern: bool, id_json: str, request_id: Any
    ) -> Call:
        name = params.get("name")
        if not isinstance(name, str):
            raise RpcError(jsonrpc.INVALID_PARAMS, "Invalid params: tools/call needs a tool name")
        spec = self.catalog.spec(name)
        if self.catalog.listing is not self._listed:  # the precomputed listing was stale
            self._list_frames()
        if spec is None:
            raise RpcError(
                jsonrpc.INVALID_PARAMS,
                f"Unknown tool: {name[:100]!r}; available: {', '.join(self.catalog.names)}",
            )
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        if not (jsonrpc.valid_id(token) or isinstance(token, str)):
            token = None
        return Call(id_json, request_id, spec, params.get("arguments"), token, modern)

    # ------------------------------------------------------------------ calls

    async def run(self, call: Call, notify: Notify | None) -> bytes:
        """Run a tool call to its response frame. Cancellation propagates to the caller."""
        from codeteam.tools.base import ran_on
        from codeteam.trace import mark

        mark("D1 tool call")
        ctx = CallContext(self, call.progress_token, notify)
        try:
            ran_on.set(None)
            outcome = await call.spec.call(ctx, call.arguments)
            node = ran_on.get()
            last = self._encoded.get(call.spec.name)
            if node is not None:  # ran on a cluster node: say which (never reused)
                result = _tool_result(outcome.text, outcome.structured, outcome.is_error)
                result["_meta"] = {META_NODE: node}
                if call.modern:
                    result["resultType"] = "complete"
                    result["_meta"][META_SERVER_INFO] = SERVER_INFO
                return jsonrpc.result_frame(call.id_json, jsonrpc.dumps(result))
            if last is not None and last[0] is outcome:
                body = last[1]
            else:
                body = jsonrpc.dumps(
                    _tool_result(outcome.text, outcome.structured, outcome.is_error)
                )
                if len(body) <= REUSE_MAX_BYTES:
                    self._encoded[call.spec.name] = (outcome, body)
        except Exception as exc:  # a tool bug: answer -32603 and keep serving
            print(
                f"codeteam: tool {call.spec.name} failed: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            return jsonrpc.error_frame(
                call.request_id,
                jsonrpc.INTERNAL_ERROR,
                f"Internal error in tool {call.spec.name}: {type(exc).__name__}; "
                "see the server log",
            )
        if call.modern:
            body = body[:-1] + ',"resultType":"complete","_meta":' + self._server_meta + "}"
        return jsonrpc.result_frame(call.id_json, body)


def track(session: Session, call: Call, task: Any) -> None:
    """Register a running call so notifications/cancelled (or session end) can cancel it."""
    key = call.id_json
    session.calls[key] = task

    def _forget(done: Any) -> None:
        if session.calls.get(key) is done:
            del session.calls[key]

    task.add_done_callback(_forget)


async def run_batch(
    dispatcher: Dispatcher, items: list[Any], session: Session, notify: Notify | None
) -> Answer:
    """A JSON-RPC batch: every member routed, calls run concurrently, one array back."""
    import asyncio

    if not items:
        frame = jsonrpc.error_frame(None, jsonrpc.INVALID_REQUEST, "Invalid Request: empty batch")
        return Answer(frame, 400)
    frames: list[bytes] = []
    tasks: list[asyncio.Task[bytes]] = []
    for item in items:
        routed = dispatcher.route(item, session)
        if isinstance(routed, Call):
            task = asyncio.ensure_future(dispatcher.run(routed, notify))
            track(session, routed, task)
            tasks.append(task)
        elif routed.frame is not None:
            frames.append(routed.frame)
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, bytes):
            frames.append(outcome)
        elif not isinstance(outcome, asyncio.CancelledError):
            raise outcome
    if not frames:
        return Answer(None, 202)
    return Answer(b"[" + b",".join(frames) + b"]")
