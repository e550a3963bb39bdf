"""The team end to end through real parts: real SDK against the fake Messages API, a real
MCP stdio server (the stand-in), a real SQLite store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeteam.llm.anthropic import AnthropicProvider
from codeteam.store import Store
from codeteam.team.config import RunResult, TeamConfig
from codeteam.team.events import Event, RunFinished, RunStarted
from codeteam.team.loop import TRUNCATED
from codeteam.team.runner import run_team
from tests.team.conftest import FAST, mini_server, role, task_id
from tests.team.fake_anthropic import (
    FakeAnthropic,
    HttpError,
    ModelRequest,
    Reply,
    Response,
    text,
    tool_use,
)

Specialist = Callable[[ModelRequest], Response]


def assign(tid: str, agent: str = "code", deps: list[str] | None = None) -> dict[str, Any]:
    return tool_use(
        "assign_task", id=tid, agent=agent, description=f"do {tid}", depends_on=deps or []
    )


def team(
    plan: list[dict[str, Any]], specialist: Specialist, report: str = "REPORT"
) -> Callable[[ModelRequest], Response]:
    def script(req: ModelRequest) -> Response:
        if role(req) == "lead":
            return Reply(plan) if req.turn == 0 else Reply([text(report)])
        return specialist(req)

    return script


def finished(req: ModelRequest) -> Response:
    return Reply([text(f"finished {task_id(req)}")])


async def run(fake: FakeAnthropic, store: Store, workspace: Path, **cfg: Any) -> RunResult:
    provider = AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=FAST)
    events: list[Event] = []
    config = TeamConfig(
        request="build it",
        workspace=workspace,
        mcp_server=mini_server(),
        run_root=workspace.parent / "runs",
        **cfg,
    )
    try:
        result = await run_team(config, provider, store, events.append)
    finally:
        await provider.aclose()
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    return result


def specialist_calls(fake: FakeAnthropic, tid: str) -> list[Any]:
    return [
        c
        for c in fake.calls
        if role(ModelRequest(c.body)) != "lead" and task_id(ModelRequest(c.body)) == tid
    ]


def lead_calls(fake: FakeAnthropic) -> list[Any]:
    return [c for c in fake.calls if role(ModelRequest(c.body)) == "lead"]


async def test_three_independent_tasks_run_their_model_calls_at_the_same_time(
    store: Store, tmp_path: Path
) -> None:
    slow = lambda req: Reply([text(f"finished {task_id(req)}")], delay=1.0)  # noqa: E731
    plan = [assign("a"), assign("b"), assign("c")]
    with FakeAnthropic(team(plan, slow)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_parallel=3)
    assert result.status == "completed" and result.report == "REPORT"
    calls = [specialist_calls(fake, t)[0] for t in "abc"]
    # Every call started before any of them finished: they overlapped in time.
    assert max(c.started for c in calls) < min(c.finished for c in calls)
    assert fake.rejections == []


async def test_max_parallel_one_runs_the_same_tasks_one_after_another(
    store: Store, tmp_path: Path
) -> None:
    slow = lambda req: Reply([text("ok")], delay=0.3)  # noqa: E731
    with FakeAnthropic(team([assign("a"), assign("b")], slow)) as fake:
        await run(fake, store, tmp_path / "ws", max_parallel=1)
    a, b = specialist_calls(fake, "a")[0], specialist_calls(fake, "b")[0]
    first, second = sorted([a, b], key=lambda c: c.started)
    assert second.started >= first.finished


async def test_dependent_task_starts_after_and_sees_the_files_its_dependency_wrote(
    store: Store, tmp_path: Path
) -> None:
    def specialist(req: ModelRequest) -> Response:
        if task_id(req) == "impl":
            if req.turn == 0:
                return Reply([tool_use("write_file", path="cache.py", content="X = 1\n")])
            return Reply([text("wrote cache.py")])
        if req.turn == 0:
            assert "wrote cache.py" in req.first_text  # the dependency's outcome is in the brief
            return Reply([tool_use("read_file", path="cache.py")])
        return Reply([text("read: " + str(req.last_results[0]["content"]))])

    plan = [assign("impl"), assign("check", "test", ["impl"])]
    ws = tmp_path / "ws"
    with FakeAnthropic(team(plan, specialist)) as fake:
        result = await run(fake, store, ws)
    assert result.tasks["check"].ok and "X = 1" in result.tasks["check"].summary
    assert (ws / "cache.py").read_text() == "X = 1\n"
    assert specialist_calls(fake, "check")[0].started >= specialist_calls(fake, "impl")[-1].finished
    # The lead got each subtask's outcome as the tool_result of its assign_task call.
    final = lead_calls(fake)[-1].body["messages"][-1]["content"]
    assert [r["is_error"] for r in final] == [False, False]
    assert "wrote cache.py" in final[0]["content"]
    recorded = store.get_run(result.run_id)
    assert recorded is not None
    assert [(t["id"], t["status"]) for t in recorded["tasks"]] == [("impl", "ok"), ("check", "ok")]
    assert [c["name"] for c in recorded["tool_calls"]] == ["write_file", "read_file"]
    assert len(recorded["model_calls"]) == 2 + 2 + 2  # lead 2, each specialist 2


async def test_persistent_529_fails_one_task_skips_its_dependent_and_the_run_is_partial(
    store: Store, tmp_path: Path
) -> None:
    def specialist(req: ModelRequest) -> Response:
        if task_id(req) == "flaky":
            return HttpError(529, "overloaded_error", "Overloaded")
        return finished(req)

    plan = [assign("ok1"), assign("flaky"), assign("after", "test", ["flaky"])]
    with FakeAnthropic(team(plan, specialist)) as fake:
        result = await run(fake, store, tmp_path / "ws")
    assert result.status == "partial"  # the lead finished, but not every task succeeded
    assert result.tasks["ok1"].ok
    assert result.tasks["flaky"].status == "failed" and "529" in str(result.tasks["flaky"].error)
    assert result.tasks["after"].status == "skipped"
    assert "flaky failed" in str(result.tasks["after"].error)
    assert result.error is not None and "flaky failed" in result.error  # the run says so
    final = lead_calls(fake)[-1].body["messages"][-1]["content"]
    assert [r["is_error"] for r in final] == [False, True, True]
    assert specialist_calls(fake, "after") == []
    recorded = store.get_run(result.run_id)
    assert recorded is not None and recorded["status"] == "partial"
    assert {t["id"]: t["status"] for t in recorded["tasks"]} == {
        "ok1": "ok",
        "flaky": "failed",
        "after": "skipped",
    }


async def test_invalid_plan_goes_back_as_errors_and_the_revised_plan_runs(
    store: Store, tmp_path: Path
) -> None:
    bad = [
        assign("x", "painter"),
        assign("p", "code", ["q"]),
        assign("q", "code", ["p"]),
        assign("r", "code", ["nowhere"]),
    ]
    good = [assign("fixed")]

    def script(req: ModelRequest) -> Response:
        if role(req) == "lead":
            return [Reply(bad), Reply(good), Reply([text("REPORT")])][req.turn]
        return finished(req)

    with FakeAnthropic(script) as fake:
        result = await run(fake, store, tmp_path / "ws")
    assert result.status == "completed" and list(result.tasks) == ["fixed"]
    errors = lead_calls(fake)[1].body["messages"][-1]["content"]
    assert all(r["is_error"] for r in errors)
    reasons = " | ".join(r["content"] for r in errors)
    assert "unknown agent 'painter'" in reasons
    assert "cycle" in reasons
    assert "unknown task(s) 'nowhere'" in reasons


async def test_a_lead_that_never_sends_a_valid_plan_fails_the_run_with_the_reason(
    store: Store, tmp_path: Path
) -> None:
    def stubborn(req: ModelRequest) -> Response:
        return Reply([assign("a"), assign("a")]) if role(req) == "lead" else finished(req)

    with FakeAnthropic(stubborn) as fake:
        result = await run(fake, store, tmp_path / "ws", max_plan_attempts=2)
    assert result.status == "failed" and "duplicate task id 'a'" in str(result.error)
    assert len(lead_calls(fake)) == 2


async def test_unknown_tool_call_gets_an_error_result_and_the_agent_carries_on(
    store: Store, tmp_path: Path
) -> None:
    def specialist(req: ModelRequest) -> Response:
        if req.turn == 0:
            return Reply([tool_use("format_disk", device="sda")])
        result = req.last_results[0]
        assert result["is_error"] and "unknown tool 'format_disk'" in result["content"]
        assert "write_file" in result["content"]  # names what it can call
        return Reply([text("ok, no such tool")])

    with FakeAnthropic(team([assign("a")], specialist)) as fake:
        result = await run(fake, store, tmp_path / "ws")
    assert result.tasks["a"].ok
    recorded = store.get_run(result.run_id)
    assert recorded is not None
    assert [(c["name"], c["status"], c["is_error"]) for c in recorded["tool_calls"]] == [
        ("format_disk", "unknown_tool", 1)
    ]


async def test_truncated_tool_use_is_never_executed_and_the_model_is_asked_again(
    store: Store, tmp_path: Path
) -> None:
    content = "print('hello')\n" * 20

    def specialist(req: ModelRequest) -> Response:
        if req.turn == 0:
            return Reply(
                [text("Writing."), tool_use("write_file", path="a.py", content=content)],
                cut_json=True,
            )
        if req.turn == 1:
            last = req.messages[-1]["content"]
            assert last[0]["type"] == "text" and last[0]["text"] == TRUNCATED
            assert all(b["type"] == "text" for b in req.messages[-2]["content"])
            return Reply([tool_use("write_file", path="a.py", content=content)])
        return Reply([text("written")])

    ws = tmp_path / "ws"
    with FakeAnthropic(team([assign("a")], specialist)) as fake:
        result = await run(fake, store, ws)
    assert result.tasks["a"].ok and fake.rejections == []
    assert (ws / "a.py").read_text() == content
    recorded = store.get_run(result.run_id)
    assert recorded is not None and len(recorded["tool_calls"]) == 1
    assert [m["stop_reason"] for m in recorded["model_calls"] if m["task_id"] == "a"] == [
        "max_tokens",
        "tool_use",
        "end_turn",
    ]


async def test_an_agent_that_keeps_calling_tools_stops_at_the_turn_limit(
    store: Store, tmp_path: Path
) -> None:
    # Different arguments each turn: not a loop, just an agent that never finishes.
    busy = lambda req: Reply([tool_use("list_files", path=f"d{req.turn}")])  # noqa: E731
    with FakeAnthropic(team([assign("a")], busy)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_turns=3)
    assert result.tasks["a"].status == "failed"
    assert "turn limit (3 turns" in str(result.tasks["a"].error)
    assert len(specialist_calls(fake, "a")) == 3


async def test_a_task_over_its_timeout_fails_and_its_sibling_finishes(
    store: Store, tmp_path: Path
) -> None:
    def specialist(req: ModelRequest) -> Response:
        return Reply([text("slow")], delay=5.0) if task_id(req) == "slow" else finished(req)

    with FakeAnthropic(team([assign("slow"), assign("quick")], specialist)) as fake:
        result = await run(fake, store, tmp_path / "ws", task_timeout_s=0.5)
    assert result.tasks["quick"].ok
    assert result.tasks["slow"].status == "failed" and "timed out" in str(
        result.tasks["slow"].error
    )


async def test_a_timed_out_task_leaves_its_unfinished_edit_out_of_the_workspace_and_says_so(
    store: Store, tmp_path: Path
) -> None:
    def specialist(req: ModelRequest) -> Response:
        if task_id(req) != "slow":
            return finished(req)
        if req.turn == 0:
            return Reply([tool_use("write_file", path="half.py", content="x = (")])
        return Reply([text("slow")], delay=60.0)

    ws = tmp_path / "ws"
    ws.mkdir()
    with FakeAnthropic(team([assign("slow"), assign("quick")], specialist)) as fake:
        result = await run(fake, store, ws, task_timeout_s=8.0)
    error = str(result.tasks["slow"].error)
    assert "timed out" in error and "unfinished changes were not merged" in error, error
    assert len(specialist_calls(fake, "slow")) == 2  # it did write, then timed out
    assert not (ws / "half.py").exists()
    recorded = store.get_run(result.run_id)
    assert recorded is not None
    assert [t["error"] for t in recorded["tasks"] if t["id"] == "slow"] == [error]
