"""Why an HTTP request is not served: one exception type, answered as one JSON-RPC error."""

from __future__ import annotations

from typing import Any

from codeteam.protocol import jsonrpc
from codeteam.protocol.asgi import Send, respond


class Refused(Exception):
    """A request refused before it reaches the dispatcher: the HTTP status, the JSON-RPC
    error (code, message, data) and the request id it answers, extra response headers."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        data: Any = None,
        *,
        request_id: Any = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id if jsonrpc.valid_id(request_id) else None
        self.headers = headers or []

    async def answer(self, send: Send) -> None:
        frame = jsonrpc.error_frame(self.request_id, self.code, self.message, self.data)
        await respond(send, self.status, frame, headers=self.headers)
