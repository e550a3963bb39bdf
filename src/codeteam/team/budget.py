"""Hard limits on a run: tokens and dollars per run, tool calls and repeats per specialist.

The run's caps are checked before every model call (so one call may overshoot by its own
size, never more); a limit that fires raises :class:`LimitReached`, which the runner
records and reports. Prices are USD per million tokens, by model; an unknown model with a
cost cap is refused up front rather than counted as free.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.llm import Usage


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float | None = None  # default 1.25 x input (Anthropic's 5-minute cache)
    cache_read: float | None = None  # default 0.1 x input

    def cost(self, u: Usage) -> float:
        write = self.input * 1.25 if self.cache_write is None else self.cache_write
        read = self.input * 0.1 if self.cache_read is None else self.cache_read
        return (
            u.input_tokens * self.input
            + u.output_tokens * self.output
            + u.cache_creation_tokens * write
            + u.cache_read_tokens * read
        ) / 1_000_000


#: Shipped defaults; ``--prices FILE`` overrides or adds models. Local OpenAI-compatible
#: servers (vLLM, Ollama, llama.cpp) cost nothing per token.
DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-1": Price(15.0, 75.0),
    "claude-opus-4": Price(15.0, 75.0),
    "claude-sonnet-4-5": Price(3.0, 15.0),
    "claude-sonnet-4": Price(3.0, 15.0),
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
    "gpt-4o": Price(2.5, 10.0, cache_read=1.25),
    "gpt-4o-mini": Price(0.15, 0.6, cache_read=0.075),
    "llama3.1": Price(0.0, 0.0),
    "qwen2.5-coder": Price(0.0, 0.0),
    "gpt-oss-20b": Price(0.0, 0.0),
    "gpt-oss-120b": Price(0.0, 0.0),
}


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """Exact name, else the longest known name it starts with (dated snapshots such as
    ``claude-sonnet-4-5-20250929``; ``llama3.1:8b`` tags)."""
    if model in prices:
        return prices[model]
    best = max((k for k in prices if model.startswith(k)), key=len, default=None)
    return prices[best] if best else None


def load_prices(path: Path | None) -> dict[str, Price]:
    """Defaults, overridden by a JSON or TOML file ``{model: {input, output, ...}}``."""
    prices = dict(DEFAULT_PRICES)
    if path is None:
        return prices
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read --prices file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            raw: Any = tomllib.loads(raw_text)
        else:
            raw = json.loads(raw_text)
    except ValueError as exc:
        raise ConfigError(f"--prices file {path} is not valid JSON/TOML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"--prices file {path}: expected {{model: {{input, output}}}}")
    for model, entry in raw.items():
        try:
            prices[str(model)] = Price(**{k: float(v) for k, v in entry.items()})
        except (TypeError, ValueError, AttributeError):
            raise ConfigError(
                f"--prices file {path}: model {model!r} needs numbers 'input' and 'output' "
                "(USD per million tokens; optional 'cache_write', 'cache_read')"
            ) from None
    return prices


def usd(amount: float) -> str:
    """Dollars with the digits that tell small amounts apart: three significant digits,
    at least cents ($0.24, $0.0047, $0.000001, $12.35)."""
    if amount <= 0:
        return "$0.00"
    digits = max(2, 2 - math.floor(math.log10(amount)))
    whole, _, cents = f"{amount:.{digits}f}".partition(".")
    return f"${whole}.{cents.rstrip('0').ljust(2, '0')}"


class LimitReached(Exception):
    """A budget or guard stopped an agent. ``kind``: tokens | cost | turns | tool_calls |
    repeat."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass
class RunBudget:
    """Tokens and cost of a whole run, shared by the lead and every specialist."""

    model: str
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    price: Price | None = None
    tokens: int = 0
    cost_usd: float = 0.0

    @classmethod
    def create(
        cls,
        model: str,
        prices: dict[str, Price],
        *,
        max_tokens: int | None,
        max_cost_usd: float | None,
    ) -> RunBudget:
        """Raise :class:`ConfigError` for a cost cap on a model without a price."""
        price = price_for(model, prices)
        if max_cost_usd is not None and price is None:
            raise ConfigError(
                f"--max-cost needs a price for model {model!r}, which the price table lacks: "
                'add it with --prices FILE (JSON: {"MODEL": {"input": USD_PER_MTOK, '
                '"output": USD_PER_MTOK}})'
            )
        return cls(model, max_tokens, max_cost_usd, price)

    def check(self) -> None:
        """Before a model call: raise :class:`LimitReached` if a run cap is used up."""
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            raise LimitReached(
                "tokens",
                f"run token cap reached: {self.tokens} of {self.max_tokens} tokens used "
                "(--max-run-tokens)",
            )
        if self.max_cost_usd is not None and self.cost_usd >= self.max_cost_usd:
            raise LimitReached(
                "cost",
                f"run cost cap reached: spent {usd(self.cost_usd)} of a "
                f"{usd(self.max_cost_usd)} cap (--max-cost)",
            )

    def charge(self, usage: Usage) -> None:
        self.tokens += usage.total + usage.cache_creation_tokens + usage.cache_read_tokens
        if self.price is not None:
            self.cost_usd += self.price.cost(usage)


class CallGuard:
    """One specialist's tool calls: at most ``max_calls``, and never the same call
    (name and arguments) ``repeat`` times in a row — a model stuck in a loop."""

    def __init__(self, max_calls: int | None, repeat: int | None) -> None:
        self.max_calls = max_calls
        self.repeat = repeat
        self.calls = 0
        self._last: str | None = None
        self._streak = 0

    def admit(self, name: str, arguments: Any) -> None:
        """Before a tool call: raise :class:`LimitReached` instead of running it."""
        key = name + json.dumps(arguments, sort_keys=True, default=str)
        self._streak = self._streak + 1 if key == self._last else 1
        self._last = key
        if self.repeat is not None and self._streak >= self.repeat:
            raise LimitReached(
                "repeat",
                f"stopped a loop: {name} called {self._streak} times in a row with the same "
                "arguments (--repeat-limit)",
            )
        if self.max_calls is not None and self.calls >= self.max_calls:
            raise LimitReached(
                "tool_calls",
                f"tool call limit reached: {self.calls} calls (--max-tool-calls)",
            )
        self.calls += 1
