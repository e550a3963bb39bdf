"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) through the
official SDK: Chat Completions with ``tools``/``tool_calls``, streamed.

Conversations are kept in the Messages shape and converted here, both ways.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import openai

from codeteam.llm import Block, Message, ProviderConfig, ToolDef, Turn, Usage
from codeteam.llm.retry import Failure, sdk_failure, with_retries

_FINISH = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for b in content:
        if b.get("type") == "text":
            parts.append(b["text"])
    return "\n".join(parts)


def _result_text(block: Block) -> str:
    text = _text_of(block.get("content", ""))
    return f"ERROR: {text}" if block.get("is_error") else text


def to_chat(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """Messages-shape conversation -> Chat Completions messages."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        content = m["content"]
        if m["role"] == "assistant":
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            msg: dict[str, Any] = {"role": "assistant", "content": _text_of(blocks) or None}
            calls = [
                {
                    "id": b["id"],
                    "type": "function",
                    "function": {"name": b["name"], "arguments": json.dumps(b["input"])},
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
            continue
        if isinstance(content, str):
            out.append({"role": "user", "content": content})
            continue
        for b in content:
            if b.get("type") == "tool_result":
                out.append(
                    {"role": "tool", "tool_call_id": b["tool_use_id"], "content": _result_text(b)}
                )
        text = _text_of(content)
        if text:
            out.append({"role": "user", "content": text})
    return out


def _request(
    model: str, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
) -> dict[str, Any]:
    """A streamed chat completion request (with usage) in the Chat Completions shape."""
    request: dict[str, Any] = {
        "model": model,
        "messages": to_chat(system, messages),
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:
        request["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in tools
        ]
    return request


@dataclass
class _Streamed:
    """What one streamed completion said: text, tool calls by index, finish, usage."""

    model: str
    text: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish: str = "stop"
    usage: Usage = field(default_factory=Usage)

    def add(self, chunk: Any) -> None:
        self.model = chunk.model or self.model
        if chunk.usage is not None:
            self.usage = Usage(
                input_tokens=chunk.usage.prompt_tokens or 0,
                output_tokens=chunk.usage.completion_tokens or 0,
            )
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
            for tc in delta.tool_calls or []:
                slot = self.calls.setdefault(tc.index, {"id": "", "name": "", "args": ""})
                if tc.id:
                    slot["id"] = tc.id
                if tc.function is not None:
                    slot["name"] += tc.function.name or ""
                    slot["args"] += tc.function.arguments or ""
            if choice.finish_reason:
                self.finish = choice.finish_reason

    def content(self) -> tuple[list[Block], str]:
        """The turn's content blocks and stop reason; a tool call whose arguments were cut
        short is dropped (never run a partial call) and the turn reads as cut short."""
        stop_reason = _FINISH.get(self.finish, "end_turn")
        content: list[Block] = []
        if "".join(self.text):
            content.append({"type": "text", "text": "".join(self.text)})
        for index in sorted(self.calls):
            slot = self.calls[index]
            try:
                args = json.loads(slot["args"] or "{}")
            except json.JSONDecodeError:
                stop_reason = "max_tokens"
                continue
            content.append(
                {
                    "type": "tool_use",
                    "id": slot["id"] or f"call_{index}",
                    "name": slot["name"],
                    "input": args if isinstance(args, dict) else {"value": args},
                }
            )
        if stop_reason == "end_turn" and any(b["type"] == "tool_use" for b in content):
            stop_reason = "tool_use"  # some servers say "stop" after tool calls
        return content, stop_reason


class OpenAIProvider:
    name = "openai"

    def __init__(
        self, model: str, *, api_key: str, base_url: str | None, cfg: ProviderConfig
    ) -> None:
        self.model = model
        self._cfg = cfg
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=cfg.timeout_s
        )  # retries: codeteam.llm.retry
        #: where requests go, and the variable that sets it (for messages and probes)
        self.endpoint, self.endpoint_env = str(self._client.base_url), "OPENAI_BASE_URL"

    async def aclose(self) -> None:
        await self._client.close()

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        request = _request(self.model, system, messages, tools, max_tokens)
        started = time.monotonic()
        streamed, attempts = await with_retries(
            lambda: self._stream(request), self._failure, self._cfg
        )
        content, stop_reason = streamed.content()
        return Turn(
            content=content,
            stop_reason=stop_reason,
            usage=streamed.usage,
            model=streamed.model,
            latency_ms=(time.monotonic() - started) * 1000,
            attempts=attempts,
        )

    async def _stream(self, request: dict[str, Any]) -> _Streamed:
        """One attempt, read to its end."""
        streamed = _Streamed(model=self.model)
        stream = await self._client.chat.completions.create(**request)
        async for chunk in stream:
            streamed.add(chunk)
        return streamed

    def _failure(self, exc: Exception) -> Failure | None:
        return sdk_failure(
            exc,
            openai,
            what="OpenAI-compatible API error",
            base_url=str(self._client.base_url),
            env="OPENAI_BASE_URL",
            timeout_s=self._cfg.timeout_s,
        )
