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
#: Sees the conversation each time it grows (the lead's is recorded for resume).
OnMessages = Callable[[list[Message]], None]

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
    before_turn: Callable[[], None] | None = None,
    history: list[Message] | None = None,
    on_messages: OnMessages | None = None,
) -> LoopResult:
    """Run until the model answers without calling a tool, or ``max_turns`` model calls.

    ``before_turn`` runs before every model call and may raise to stop the loop (budgets).
    ``history`` continues a recorded conversation (resume): an assistant turn at its end
    has its tool calls handled first. :class:`codeteam.llm.LLMError` propagates: the
    caller decides what a failed model means.
    """
    messages: list[Message] = list(history or []) or [
        {"role": "user", "content": [{"type": "text", "text": prompt}]}
    ]
    done_turns = sum(1 for m in messages if m["role"] == "assistant")
    if messages[-1]["role"] == "assistant":
        uses = [b for b in messages[-1]["content"] if b.get("type") == "tool_use"]
        messages.append({"role": "user", "content": await handle(uses)})
        if on_messages is not None:
            on_messages(messages)
    last_text = ""
    for turn_no in range(done_turns + 1, max_turns + 1):
        if before_turn is not None:
            before_turn()
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
        if on_messages is not None:
            on_messages(messages)
        messages.append({"role": "user", "content": await handle(uses)})
        if on_messages is not None:
            on_messages(messages)
    return LoopResult(last_text, max_turns, "turn_limit")
