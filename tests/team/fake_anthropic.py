"""A fake Anthropic Messages API: the true wire format (JSON and SSE streaming), as strict
as the real one about conversation shape, scripted per test by a function from the
request to the reply."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.team.fake_http import FakeHTTPServer, HttpResponse, Recorded, json_response

_ids = itertools.count(1)
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


@dataclass
class Reply:
    """An assistant message. ``cut_json`` streams only half of the last tool_use input and
    stops with ``max_tokens`` (what a real truncated tool call looks like)."""

    content: list[dict[str, Any]]
    stop_reason: str | None = None
    delay: float = 0.0
    input_tokens: int = 100
    output_tokens: int = 20
    cut_json: bool = False


@dataclass
class HttpError:
    status: int
    type: str
    message: str = "fake error"
    headers: dict[str, str] = field(default_factory=lambda: {"retry-after-ms": "1"})


@dataclass
class StreamError:
    """A 200 stream that sends ``error`` after message_start."""

    type: str = "overloaded_error"
    message: str = "Overloaded"


Response = Reply | HttpError | StreamError
Script = Callable[["ModelRequest"], Response]


@dataclass
class ModelRequest:
    body: dict[str, Any]

    @property
    def system(self) -> str:
        s = self.body.get("system", "")
        return s if isinstance(s, str) else " ".join(b.get("text", "") for b in s)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body["messages"])

    @property
    def tool_names(self) -> list[str]:
        return [t["name"] for t in self.body.get("tools", [])]

    @property
    def first_text(self) -> str:
        c = self.messages[0]["content"]
        return c if isinstance(c, str) else " ".join(b.get("text", "") for b in c)

    @property
    def turn(self) -> int:
        """0 for the first call of a conversation, then 1, 2, ..."""
        return sum(1 for m in self.messages if m["role"] == "assistant")

    @property
    def last_results(self) -> list[dict[str, Any]]:
        c = self.messages[-1]["content"]
        return [b for b in c if isinstance(b, dict) and b.get("type") == "tool_result"]


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def tool_use(name: str, **inp: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):06d}", "name": name, "input": inp}


# ------------------------------------------------------------------ strictness


def _blocks(content: Any) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def validate(body: Any) -> str | None:
    """The message the real API would give with HTTP 400, or None."""
    if not isinstance(body, dict):
        return "body: must be a JSON object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages: at least one message is required"
    if "system" in body and not isinstance(body["system"], str | list):
        return "system: Input should be a valid string"
    for i, tool in enumerate(body.get("tools", [])):
        if not _NAME.match(str(tool.get("name", ""))):
            return f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{i}.input_schema.type: Input should be 'object'"
        for bad in ("oneOf", "anyOf", "allOf"):
            if bad in schema:
                return (
                    f"tools.{i}.custom.input_schema: input_schema does not support oneOf, "
                    "allOf, or anyOf at the top level"
                )
    prev_role = None
    pending: list[str] = []
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'" + (
                " (use the top-level system parameter)" if role == "system" else ""
            )
        if i == 0 and role != "user":
            return 'messages: first message must use the "user" role'
        if role == prev_role:
            return 'messages: roles must alternate between "user" and "assistant"'
        content = m.get("content")
        if content in ("", []) or content is None:
            return f"messages.{i}: all messages must have non-empty content"
        blocks = _blocks(content)
        for j, b in enumerate(blocks):
            if b.get("type") == "text" and not b.get("text"):
                return f"messages.{i}.content.{j}.text: text content blocks must be non-empty"
        if pending:
            results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
            missing = [p for p in pending if p not in results]
            if role != "user" or missing:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {', '.join(missing or pending)}. Each `tool_use` block "
                    "must have a corresponding `tool_result` block in the next message."
                )
            seen_other = False
            for b in blocks:
                if b.get("type") == "tool_result":
                    if seen_other:
                        return (
                            f"messages.{i}: tool_result blocks must come first in the user "
                            "message, before any other content"
                        )
                    if b.get("content") in ("", []) and not b.get("is_error"):
                        pass
                else:
                    seen_other = True
        elif any(b.get("type") == "tool_result" for b in blocks):
            return f"messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks"
        pending = []
        if role == "assistant":
            for b in blocks:
                if b.get("type") == "tool_use":
                    if not isinstance(b.get("input"), dict) or not b.get("id"):
                        return f"messages.{i}: tool_use blocks need id, name and an object input"
                    pending.append(b["id"])
        prev_role = role
    return None


# ------------------------------------------------------------------ wire format


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _message(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    return {
        "id": f"msg_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": reply.content,
        "stop_reason": _stop(reply),
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _stop(reply: Reply) -> str:
    if reply.cut_json:
        return "max_tokens"
    if reply.stop_reason:
        return reply.stop_reason
    return "tool_use" if any(b["type"] == "tool_use" for b in reply.content) else "end_turn"


async def _stream(body: dict[str, Any], reply: Response) -> AsyncIterator[bytes]:
    start = {
        "type": "message_start",
        "message": {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": getattr(reply, "input_tokens", 10),
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
    }
    yield _sse("message_start", start)
    yield _sse("ping", {"type": "ping"})
    if isinstance(reply, StreamError):
        yield _sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": text("")},
        )
        yield _sse(
            "error", {"type": "error", "error": {"type": reply.type, "message": reply.message}}
        )
        return
    assert isinstance(reply, Reply)
    if reply.delay:
        await asyncio.sleep(reply.delay)
    last = len(reply.content) - 1
    for i, block in enumerate(reply.content):
        if block["type"] == "text":
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": text("")},
            )
            t = block["text"]
            for part in (t[: len(t) // 2], t[len(t) // 2 :]):
                if part:
                    yield _sse(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": i,
                            "delta": {"type": "text_delta", "text": part},
                        },
                    )
        else:
            head = {**block, "input": {}}
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": head},
            )
            raw = json.dumps(block["input"])
            parts = (
                [raw[: len(raw) // 2]]
                if reply.cut_json and i == last
                else [raw[: len(raw) // 2], raw[len(raw) // 2 :]]
            )
            for part in parts:
                yield _sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": part},
                    },
                )
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": i})
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop(reply), "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


class FakeAnthropic(FakeHTTPServer):
    """``with FakeAnthropic(script) as api:`` then point the SDK at ``api.url``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.rejections: list[str] = []
        super().__init__(self._handle)

    @property
    def calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/messages"]

    async def _handle(self, rec: Recorded) -> HttpResponse:
        if rec.path != "/v1/messages":
            return json_response(404, _err("not_found_error", f"no route {rec.path}"))
        if not rec.headers.get("x-api-key") and not rec.headers.get("authorization"):
            return json_response(401, _err("authentication_error", "x-api-key header is required"))
        problem = validate(rec.body)
        if problem:
            self.rejections.append(problem)
            return json_response(400, _err("invalid_request_error", problem))
        reply = self.script(ModelRequest(rec.body))
        if isinstance(reply, HttpError):
            return json_response(reply.status, _err(reply.type, reply.message), reply.headers)
        if rec.body.get("stream"):
            return HttpResponse(
                200, {"content-type": "text/event-stream"}, _stream(rec.body, reply)
            )
        if isinstance(reply, StreamError):
            return json_response(529, _err(reply.type, reply.message))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return json_response(200, _message(rec.body, reply))


def _err(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
