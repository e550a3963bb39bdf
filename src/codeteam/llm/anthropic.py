"""Anthropic Messages API through the official SDK, streamed.

The SDK retries HTTP 429/529/5xx itself (``max_retries``, honouring ``retry-after``).
An ``error`` event in the middle of a stream arrives after a 200 and is not retried by
the SDK: this module retries that turn, bounded and with backoff.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anthropic

from codeteam.llm import LLMError, Message, ProviderConfig, ToolDef, Turn, Usage

#: Error types worth another attempt when they arrive mid-stream.
_RETRYABLE = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


def _error_type(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("type", ""))
    return ""


def _error_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", exc))
    return str(exc)


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
            api_key=api_key, base_url=base_url, max_retries=cfg.max_retries, timeout=cfg.timeout_s
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
        attempts = 0
        started = time.monotonic()
        while True:
            attempts += 1
            try:
                async with self._client.messages.stream(**kwargs) as stream:
                    msg = await stream.get_final_message()
                break
            except anthropic.APIStatusError as exc:
                mid_stream = exc.status_code == 200
                retryable = mid_stream and _error_type(exc) in _RETRYABLE
                if retryable and attempts <= self._cfg.stream_retries:
                    await asyncio.sleep(self._cfg.backoff_s * 2 ** (attempts - 1))
                    continue
                where = "mid-stream" if mid_stream else f"HTTP {exc.status_code}"
                raise LLMError(
                    f"Anthropic API error ({where}, {_error_type(exc) or 'unknown'}) after "
                    f"{attempts} attempt(s): {_error_message(exc)}"
                ) from None
            except anthropic.APIConnectionError as exc:
                raise LLMError(
                    f"cannot reach the Anthropic API at {self._client.base_url}: {exc}; "
                    "check ANTHROPIC_BASE_URL / --base-url and the network"
                ) from None
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
