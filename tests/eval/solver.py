"""A fake model that answers as a solver of any dataset's problems, through the fake
Messages API (or the OpenAI-compatible fake): the lead assigns one code task, the code
agent writes the problem's files (the canonical answer, a wrong one, or nothing). It
knows the problem by its prompt, which every agent's first message carries."""

from __future__ import annotations

from typing import Any

from codeteam.eval.problems import Problem
from codeteam.eval.registry import dataset
from tests.team.conftest import role
from tests.team.fake_anthropic import ModelRequest, Reply, Response, text, tool_use
from tests.team.fake_openai import ChatReply

_PROBLEMS: dict[str, list[Problem]] = {}


def problem_in(first_text: str, name: str = "humaneval") -> Problem:
    """The problem whose prompt ``first_text`` holds."""
    if name not in _PROBLEMS:
        _PROBLEMS[name] = dataset(name).problems()
    found = [p for p in _PROBLEMS[name] if p.prompt in first_text]
    assert len(found) == 1, first_text[:200]
    return found[0]


def problem_of(first_text: str, name: str = "humaneval") -> str:
    return problem_in(first_text, name).id


def _files(problem: Problem, kind: str) -> dict[str, str]:
    chosen = {"canonical": problem.canonical, "wrong": problem.wrong}.get(kind, {})
    return {path: data.decode() for path, data in chosen.items()}


def solver(kind: str, name: str = "humaneval") -> Any:
    """The Messages API script: ``kind`` canonical | wrong | unchanged."""

    def script(req: ModelRequest) -> Response:
        problem = problem_in(req.first_text, name)
        if role(req) == "lead":
            if req.turn == 0:
                return Reply(
                    [tool_use("assign_task", id="solve", agent="code", description=req.first_text)]
                )
            return Reply([text(f"report: {problem.id} solved")])
        files = _files(problem, kind)
        if req.turn == 0 and files:
            return Reply([tool_use("write_file", path=p, content=c) for p, c in files.items()])
        return Reply([text("done")])

    return script


def chat_solver(kind: str, name: str = "humaneval") -> Any:
    """The same solver for the OpenAI-compatible fake (Chat Completions bodies)."""

    def script(body: dict[str, Any]) -> ChatReply:
        msgs = body["messages"]
        system = msgs[0]["content"] if msgs[0]["role"] == "system" else ""
        first = next(m["content"] for m in msgs if m["role"] == "user")
        problem = problem_in(first, name)
        turn = sum(1 for m in msgs if m["role"] == "assistant")
        if "lead engineer" in system:
            if turn == 0:
                args = {"id": "solve", "agent": "code", "description": first}
                return ChatReply(tool_calls=[("call_1", "assign_task", args)])
            return ChatReply(text=f"report: {problem.id} solved")
        files = _files(problem, kind)
        if turn == 0 and files:
            calls = [
                (f"call_{i}", "write_file", {"path": p, "content": c})
                for i, (p, c) in enumerate(files.items())
            ]
            return ChatReply(tool_calls=calls)
        return ChatReply(text="done")

    return script
