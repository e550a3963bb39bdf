"""JSON-RPC 2.0 framing: parse one frame, encode answers, never raise on hostile bytes.

Encoding always escapes non-ASCII (``ensure_ascii``), so a lone surrogate echoed back in
an id or a tool's output can never break the response. Standard library only: this
module is on the start-up path.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022
#: Answer to a call cancelled by notifications/cancelled where the transport still owes an
#: HTTP response (code as in LSP; the client has already abandoned the id).
REQUEST_CANCELLED = -32800
#: Answer to a call the server stopped because it is shutting down (implementation-defined
#: server error range).
SERVER_STOPPING = -32000

_dumps = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode


class RpcError(Exception):
    """A JSON-RPC error to send back: ``code``, a one-line ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def dumps(value: Any) -> str:
    """Compact, ASCII-only JSON. Raises ``ValueError`` for NaN/Infinity (not JSON)."""
    return _dumps(value)


def encode_id(request_id: Any) -> str:
    if type(request_id) is int:  # the common case, without the encoder's overhead
        return str(request_id)
    return "null" if request_id is None else _dumps(request_id)


def result_frame(id_json: str, result_json: str) -> bytes:
    """A response frame around an already-encoded id and result (precomputed answers)."""
    return f'{{"jsonrpc":"2.0","id":{id_json},"result":{result_json}}}'.encode("ascii")


def error_frame(request_id: Any, code: int, message: str, data: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    try:
        body = _dumps({"jsonrpc": "2.0", "id": request_id, "error": error})
    except (ValueError, TypeError):  # an id we cannot echo (never from a parsed frame)
        body = _dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}})
    return body.encode("ascii")


def stopping_frame(request_id: Any) -> bytes:
    """The answer to a call still running when the server shuts down."""
    return error_frame(
        request_id,
        SERVER_STOPPING,
        "Server shutting down: the call was stopped before it finished; "
        "send it again once the server is back",
    )


def notification_frame(method: str, params: dict[str, Any]) -> bytes:
    return _dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode("ascii")


def valid_id(value: Any) -> bool:
    """MCP ids are strings or integers (never null, never bool, never a fraction)."""
    return isinstance(value, str | int) and not isinstance(value, bool)


def _recover_id(text: str) -> Any:
    """The id of a frame that parses once bad bytes are replaced, else None."""
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(msg, dict):
        candidate = msg.get("id")
        return candidate if valid_id(candidate) else None
    return None


class ParsedFrame:
    """Either ``message`` (decoded JSON) or ``error`` (a ready -32700 frame)."""

    __slots__ = ("error", "message")

    def __init__(self, message: Any = None, error: bytes | None = None) -> None:
        self.message = message
        self.error = error


def parse_frame(data: bytes) -> ParsedFrame:
    """Decode one frame. Invalid UTF-8 and unparseable JSON become a -32700 frame that
    carries the request's id when it can still be recovered."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        recovered = _recover_id(data.decode("utf-8", "replace"))
        if isinstance(recovered, str) and "\ufffd" in recovered:
            recovered = None  # the id itself held the bad bytes: it cannot be echoed
        return ParsedFrame(
            error=error_frame(
                recovered,
                PARSE_ERROR,
                f"Parse error: the message is not valid UTF-8 (byte {exc.start}); "
                "send UTF-8 encoded JSON",
            )
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return ParsedFrame(message=json.loads(text))
    except RecursionError:
        reason = "nested too deeply"
    except ValueError as exc:
        reason = str(exc).splitlines()[0][:200]
    return ParsedFrame(
        error=error_frame(None, PARSE_ERROR, f"Parse error: {reason}; send one JSON-RPC message")
    )
