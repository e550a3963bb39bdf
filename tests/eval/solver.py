"""A fake model that answers as a solver of the eval's problems, through the fake
Messages API (or the OpenAI-compatible fake): the lead assigns one code task, the code
agent writes ``solution.py`` (the canonical answer, a wrong one, or nothing)."""

from __future__ import annotations

import re
from typing import Any

from codeteam.eval.humaneval import SOLUTION, HumanEval
from tests.team.conftest import role
from tests.team.fake_anthropic import ModelRequest, Reply, Response, text, tool_use
from tests.team.fake_openai import ChatReply

_PROBLEM = re.compile(r"Problem (\S+?):")
_ANSWERS: dict[str, dict[str, str]] = {}


def answers(kind: str) -> dict[str, str]:
    """Problem id -> what the solver writes into solution.py (``kind``: canonical | wrong)."""
    if kind not in _ANSWERS:
        field = "canonical" if kind == "canonical" else "wrong"
        _ANSWERS[kind] = {
            p.id: getattr(p, field)[SOLUTION].decode() for p in HumanEval().problems()
        }
    return _ANSWERS[kind]


def problem_of(first_text: str) -> str:
    m = _PROBLEM.search(first_text)
    assert m, first_text[:200]
    return m.group(1)


def solver(kind: str) -> Any:
    """The Messages API script: ``kind`` canonical | wrong | unchanged."""

    def script(req: ModelRequest) -> Response:
        pid = problem_of(req.first_text)
        if role(req) == "lead":
            if req.turn == 0:
                return Reply(
                    [tool_use("assign_task", id="solve", agent="code", description=req.first_text)]
                )
            return Reply([text(f"report: {pid} solved")])
        if req.turn == 0 and kind != "unchanged":
            return Reply([tool_use("write_file", path=SOLUTION, content=answers(kind)[pid])])
        return Reply([text("done")])

    return script


def chat_solver(kind: str) -> Any:
    """The same solver for the OpenAI-compatible fake (Chat Completions bodies)."""

    def script(body: dict[str, Any]) -> ChatReply:
        msgs = body["messages"]
        system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
        first = next(m["content"] for m in msgs if m["role"] == "user")
        pid = problem_of(first)
        turn = sum(1 for m in msgs if m["role"] == "assistant")
        if "lead engineer" in system:
            if turn == 0:
                args = {"id": "solve", "agent": "code", "description": first}
                return ChatReply(tool_calls=[("call_1", "assign_task", args)])
            return ChatReply(text=f"report: {pid} solved")
        if turn == 0 and kind != "unchanged":
            args = {"path": SOLUTION, "content": answers(kind)[pid]}
            return ChatReply(tool_calls=[("call_w", "write_file", args)])
        return ChatReply(text="done")

    return script
