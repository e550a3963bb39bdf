"""Anthropic Messages API through the official SDK, streamed.

Retries follow :mod:`codeteam.llm.retry` (the SDK's own are off): HTTP 429/529/5xx and
timeouts, and an ``error`` event in the middle of a stream (it arrives after a 200);
a refused connection fails at once.
"""

from __future__ import annotations

import time
from typing import Any

import anthropic

from codeteam.llm import Message, ProviderConfig, ToolDef, Turn, Usage
from codeteam.llm.retry import Failure, error_fields, sdk_failure, with_retries

#: Error types worth another attempt when they arrive mid-stream.
_RETRYABLE = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def _block(block: Any) -> dict[str, Any] | None:
    """SDK content block -> request-ready dict; empty text blocks are dropped (the API
    rejects them when sent back)."""
    if block.type == "text":
        return {"type": "text", "text": block.text} if block.text else None
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return None


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self, model: str, *, api_key: str, base_url: str | None, cfg: ProviderConfig
    ) -> None:
        self.model = model
        self._cfg = cfg
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=0, timeout=cfg.timeout_s
        )  # retries: codeteam.llm.retry
        #: where requests go, and the variable that sets it (for messages and probes)
        self.endpoint, self.endpoint_env = str(self._client.base_url), "ANTHROPIC_BASE_URL"

    def _failure(self, exc: Exception) -> Failure | None:
        if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200:
            kind, text = error_fields(exc)  # an error event in the middle of a stream
            return Failure(
                kind in _RETRYABLE,
                f"Anthropic API error (mid-stream, {kind or 'unknown'}): {text}",
                budget="stream",
            )
        return sdk_failure(
            exc,
            anthropic,
            what="Anthropic API error",
            base_url=str(self._client.base_url),
            env="ANTHROPIC_BASE_URL",
            timeout_s=self._cfg.timeout_s,
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "messages": messages,
        }
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in tools
            ]
        started = time.monotonic()

        async def attempt() -> Any:
            async with self._client.messages.stream(**kwargs) as stream:
                return await stream.get_final_message()

        msg, attempts = await with_retries(attempt, self._failure, self._cfg)
        u = msg.usage
        usage = Usage(
            input_tokens=u.input_tokens or 0,
            output_tokens=u.output_tokens or 0,
            cache_creation_tokens=getattr(u, "cache_creation_input_tokens", None) or 0,
            cache_read_tokens=getattr(u, "cache_read_input_tokens", None) or 0,
        )
        content = [b for b in (_block(x) for x in msg.content) if b is not None]
        return Turn(
            content=content,
            stop_reason=str(msg.stop_reason or "end_turn"),
            usage=usage,
            model=msg.model,
            latency_ms=(time.monotonic() - started) * 1000,
            attempts=attempts,
        )
