"""The tool-use loop every agent runs: ask the model, run the tools it called, repeat.

The Messages API rules live here once: all ``tool_result`` blocks of a turn go back in
one user message, first and in order; a ``tool_use`` from a ``max_tokens`` stop is never
executed (its input may be cut short), the model is told and asked again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from codeteam.llm import Block, Message, Provider, ToolDef, Turn

#: Runs a turn's tool calls; returns one ``tool_result`` block per call, same order.
ToolHandler = Callable[[list[Block]], Awaitable[list[Block]]]
#: Sees every model call: the turn (None when it failed), its start time, the error.
OnTurn = Callable[[Turn | None, float, str | None], None]

TRUNCATED = (
    "Your previous reply hit the output token limit before its tool call was complete, so "
    "the call was NOT executed. Send it again in a shorter form (for example, write a large "
    "file in smaller parts, or keep code and tests in separate calls)."
)


@dataclass
class LoopResult:
    text: str
    turns: int
    status: str  # ok | turn_limit


def tool_result(use_id: str, text: str, is_error: bool) -> Block:
    return {
        "type": "tool_result",
        "tool_use_id": use_id,
        "content": text or "(empty)",
        "is_error": is_error,
    }


async def tool_loop(
    provider: Provider,
    *,
    system: str,
    prompt: str,
    tools: list[ToolDef],
    handle: ToolHandler,
    max_turns: int,
    max_tokens: int,
    on_turn: OnTurn,
) -> LoopResult:
    """Run until the model answers without calling a tool, or ``max_turns`` model calls.

    :class:`codeteam.llm.LLMError` propagates: the caller decides what a failed model means.
    """
    messages: list[Message] = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
    last_text = ""
    for turn_no in range(1, max_turns + 1):
        started = time.time()
        try:
            turn = await provider.turn(
                system=system, messages=messages, tools=tools, max_tokens=max_tokens
            )
        except Exception as exc:
            on_turn(None, started, str(exc))
            raise
        on_turn(turn, started, None)
        last_text = turn.text or last_text
        uses = turn.tool_uses
        if turn.stop_reason == "max_tokens" and uses:
            kept = [b for b in turn.content if b["type"] == "text"]
            messages.append(
                {"role": "assistant", "content": kept or [{"type": "text", "text": "(cut off)"}]}
            )
            messages.append({"role": "user", "content": [{"type": "text", "text": TRUNCATED}]})
            continue
        if not uses:
            return LoopResult(turn.text, turn_no, "ok")
        messages.append({"role": "assistant", "content": turn.content})
        messages.append({"role": "user", "content": await handle(uses)})
    return LoopResult(last_text, max_turns, "turn_limit")
