"""LLM providers behind one small interface: one turn in, assistant content blocks out.

Messages use the Anthropic Messages shape everywhere (``text``, ``tool_use`` and
``tool_result`` blocks) because it is the stricter of the two formats: a conversation
valid there converts losslessly to OpenAI Chat Completions. Nothing heavy is imported
here; :func:`make_provider` loads the chosen SDK only when a run starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol

from codeteam.config import ConfigError

#: One message: ``{"role": "user"|"assistant", "content": [block, ...]}``.
Message = dict[str, Any]
#: One content block (``text``, ``tool_use``, ``tool_result``).
Block = dict[str, Any]


@dataclass(frozen=True)
class ToolDef:
    """A tool offered to the model: name, description and JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.cache_read_tokens += other.cache_read_tokens

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class Turn:
    """The assistant's answer to one request.

    ``stop_reason`` uses the Messages API names: ``end_turn``, ``tool_use``,
    ``max_tokens``, ``stop_sequence`` (OpenAI finish reasons are mapped onto them).
    """

    content: list[Block]
    stop_reason: str
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    latency_ms: float = 0.0
    attempts: int = 1

    @property
    def text(self) -> str:
        return "\n".join(b["text"] for b in self.content if b.get("type") == "text").strip()

    @property
    def tool_uses(self) -> list[Block]:
        return [b for b in self.content if b.get("type") == "tool_use"]


class LLMError(Exception):
    """The model could not answer (after retries): one line saying what and why."""


class Provider(Protocol):
    """One model endpoint. Implementations retry transient failures themselves."""

    name: str
    model: str

    async def turn(
        self, *, system: str, messages: list[Message], tools: list[ToolDef], max_tokens: int
    ) -> Turn: ...

    async def aclose(self) -> None: ...


DEFAULT_MODELS = {"anthropic": "claude-sonnet-4-5", "openai": "gpt-4o"}


@dataclass(frozen=True)
class ProviderConfig:
    provider: str = "anthropic"
    model: str | None = None
    base_url: str | None = None
    max_retries: int = 4
    stream_retries: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 600.0


def make_provider(cfg: ProviderConfig) -> Provider:
    """Build the configured provider, or raise :class:`ConfigError` saying what to set."""
    model = cfg.model or os.environ.get("CODETEAM_MODEL") or DEFAULT_MODELS.get(cfg.provider)
    if cfg.provider == "anthropic":
        key = os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise ConfigError(
                "no Anthropic API key: set ANTHROPIC_API_KEY "
                "(or use --provider openai with --base-url / OPENAI_API_KEY)"
            )
        from codeteam.llm.anthropic import AnthropicProvider

        base = cfg.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        return AnthropicProvider(str(model), api_key=key, base_url=base, cfg=cfg)
    if cfg.provider == "openai":
        key = os.environ.get("OPENAI_API_KEY")
        base = cfg.base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not key and not base:
            raise ConfigError(
                "no OpenAI-compatible endpoint: set OPENAI_API_KEY, or pass --base-url "
                "(or OPENAI_BASE_URL) for a local server such as vLLM or Ollama"
            )
        from codeteam.llm.openai import OpenAIProvider

        # Local servers ignore the key, but the SDK insists on one.
        return OpenAIProvider(str(model), api_key=key or "unused", base_url=base, cfg=cfg)
    raise ConfigError(f"unknown provider {cfg.provider!r}: use --provider anthropic or openai")
