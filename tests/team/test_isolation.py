"""Each task on its own copy, merged back three-way: real copies, real ``git merge-file``,
the stand-in MCP server started per copy."""

from __future__ import annotations

from pathlib import Path

from codeteam.store import Store
from codeteam.team.workspace import merge_back, snapshot
from tests.team.conftest import task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_team_run import assign, run, team

BASE = "".join(f"line {i}\n" for i in range(1, 11))


def writer(contents: dict[str, str], delay: float = 0.3) -> object:
    """Each task writes shared.py with its own content (slow enough to overlap)."""

    def reply(req: ModelRequest) -> Response:
        tid = task_id(req)
        if req.turn == 0:
            return Reply([tool_use("write_file", path="shared.py", content=contents[tid])], delay)
        return Reply([text(f"{tid} wrote shared.py")])

    return reply


async def test_two_parallel_tasks_changing_a_file_differently_record_a_conflict_keeping_both(
    store: Store, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shared.py").write_text(BASE)
    contents = {"x": "X = 1\n", "y": "Y = 2\n"}
    with FakeAnthropic(team([assign("x"), assign("y")], writer(contents))) as fake:  # type: ignore[arg-type]
        result = await run(fake, store, ws)
    assert result.tasks["x"].ok and result.tasks["y"].ok
    assert len(result.conflicts) == 1
    conflict = result.conflicts[0]
    first = "y" if conflict.other.endswith("-x") else "x"
    second = "x" if first == "y" else "y"
    assert conflict.path == "shared.py" and conflict.other == f"shared.py.conflict-{second}"
    # Both versions kept: the first merged in place, the other beside it.
    assert (ws / "shared.py").read_text() == contents[first]
    assert (ws / conflict.other).read_text() == contents[second]
    recorded = store.get_run(result.run_id)
    assert recorded is not None
    assert [(c["task_id"], c["path"], c["other"]) for c in recorded["conflicts"]] == [
        (second, "shared.py", conflict.other)
    ]
    assert "Merge conflicts" in result.report and "shared.py" in result.report
    assert "CONFLICT shared.py" in result.tasks[second].summary  # the lead was told


async def test_non_overlapping_edits_of_one_file_by_parallel_tasks_merge_cleanly(
    store: Store, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shared.py").write_text(BASE)
    contents = {
        "x": BASE.replace("line 1\n", "line 1 by x\n"),
        "y": BASE.replace("line 10\n", "line 10 by y\n"),
    }
    with FakeAnthropic(team([assign("x"), assign("y")], writer(contents))) as fake:  # type: ignore[arg-type]
        result = await run(fake, store, ws)
    assert result.conflicts == []
    merged = (ws / "shared.py").read_text()
    assert merged == BASE.replace("line 1\n", "line 1 by x\n").replace(
        "line 10\n", "line 10 by y\n"
    )
    assert sorted(p.name for p in ws.iterdir()) == ["shared.py"]


async def test_parallel_tasks_do_not_see_each_others_files_but_a_dependent_sees_both(
    store: Store, tmp_path: Path
) -> None:
    def reply(req: ModelRequest) -> Response:
        tid = task_id(req)
        if tid in ("p", "q"):
            if req.turn == 0:
                return Reply([tool_use("write_file", path=f"{tid}.txt", content=tid)], delay=0.3)
            if req.turn == 1:
                return Reply([tool_use("list_files")], delay=0.3)
            return Reply([text("saw: " + req.last_results[0]["content"].replace("\n", ","))])
        if req.turn == 0:
            return Reply([tool_use("list_files")])
        return Reply([text("saw: " + req.last_results[0]["content"].replace("\n", ","))])

    plan = [assign("p"), assign("q"), assign("r", "test", ["p", "q"])]
    with FakeAnthropic(team(plan, reply)) as fake:
        result = await run(fake, store, tmp_path / "ws")
    assert result.tasks["p"].summary.startswith("saw: p.txt")
    assert "q.txt" not in result.tasks["p"].summary
    assert "p.txt" not in result.tasks["q"].summary
    assert result.tasks["r"].summary.startswith("saw: p.txt,q.txt")


def test_merge_applies_deletions_and_keeps_a_file_deleted_by_one_and_changed_by_another(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ws"
    target.mkdir()
    (target / "gone.txt").write_text("old")
    (target / "kept.txt").write_text("old")
    base, work = tmp_path / "base", tmp_path / "work"
    snapshot(target, base)
    snapshot(base, work)
    (work / "gone.txt").unlink()
    (work / "kept.txt").unlink()
    (target / "kept.txt").write_text("changed by another task")
    result = merge_back(base, work, target, "t")
    assert not (target / "gone.txt").exists() and result.applied == ["gone.txt"]
    assert (target / "kept.txt").read_text() == "changed by another task"
    assert [c.path for c in result.conflicts] == ["kept.txt"]


async def test_a_server_that_cannot_see_copies_runs_tasks_in_place_one_at_a_time_and_says_so(
    store: Store, tmp_path: Path
) -> None:
    from codeteam.llm.anthropic import AnthropicProvider
    from codeteam.team.config import TeamConfig
    from codeteam.team.runner import run_team
    from tests.team.conftest import FAST, mini_server

    slow = lambda req: Reply([text("ok")], delay=0.3)  # noqa: E731
    ws = tmp_path / "ws"
    with FakeAnthropic(team([assign("a"), assign("b")], slow)) as fake:
        provider = AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=FAST)
        cfg = TeamConfig(request="x", workspace=ws, mcp_server=mini_server(ws), max_parallel=4)
        result = await run_team(cfg, provider, store)
        await provider.aclose()
    assert result.notes and "cannot be pointed at per-task copies" in result.notes[0]
    a, b = (next(c for c in fake.calls if task_id(ModelRequest(c.body)) == t) for t in ("a", "b"))
    first, second = sorted([a, b], key=lambda c: c.started)
    assert second.started >= first.finished  # serial, although max_parallel was 4
