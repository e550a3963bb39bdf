"""A fake OpenAI Chat Completions endpoint: streamed chunks in the true wire format
(``data: {chat.completion.chunk}`` lines, a usage chunk, ``data: [DONE]``), strict about
tool-call bookkeeping, scripted per test."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.team.fake_http import FakeHTTPServer, HttpResponse, Recorded, json_response


@dataclass
class ChatReply:
    text: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=list
    )  # id, name, args
    finish_reason: str | None = None


ChatScript = Callable[[dict[str, Any]], ChatReply]


def validate(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: must be a non-empty array"
    pending: set[str] = set()
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role == "tool":
            if m.get("tool_call_id") not in pending:
                return f"messages.[{i}]: role 'tool' must answer a preceding 'tool_calls' id"
            pending.discard(m["tool_call_id"])
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                f"responding to each 'tool_call_id'. Missing: {', '.join(sorted(pending))}"
            )
        if role == "assistant":
            pending = {c["id"] for c in m.get("tool_calls") or []}
        elif role not in ("system", "user"):
            return f"messages.[{i}].role: invalid role {role!r}"
    for t in body.get("tools", []):
        if t.get("type") != "function" or "name" not in t.get("function", {}):
            return "tools: each tool must be {type: function, function: {name, parameters}}"
    return None


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> bytes:
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


async def _stream(body: dict[str, Any], reply: ChatReply) -> AsyncIterator[bytes]:
    yield _chunk(body, {"role": "assistant", "content": ""}, None)
    if reply.text:
        yield _chunk(body, {"content": reply.text}, None)
    for i, (cid, name, args) in enumerate(reply.tool_calls):
        raw = json.dumps(args)
        first = {
            "index": i,
            "id": cid,
            "type": "function",
            "function": {"name": name, "arguments": raw[: len(raw) // 2]},
        }
        yield _chunk(body, {"tool_calls": [first]}, None)
        rest = {"index": i, "function": {"arguments": raw[len(raw) // 2 :]}}
        yield _chunk(body, {"tool_calls": [rest]}, None)
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    yield _chunk(body, {}, finish)
    usage = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57},
    }
    yield f"data: {json.dumps(usage)}\n\n".encode()
    yield b"data: [DONE]\n\n"


class FakeOpenAI(FakeHTTPServer):
    def __init__(self, script: ChatScript) -> None:
        self.script = script
        self.rejections: list[str] = []
        super().__init__(self._handle)

    async def _handle(self, rec: Recorded) -> HttpResponse:
        if rec.path != "/v1/chat/completions":
            return json_response(404, {"error": {"message": f"no route {rec.path}"}})
        problem = validate(rec.body)
        if problem:
            self.rejections.append(problem)
            return json_response(
                400, {"error": {"message": problem, "type": "invalid_request_error"}}
            )
        reply = self.script(rec.body)
        return HttpResponse(200, {"content-type": "text/event-stream"}, _stream(rec.body, reply))
