"""The team as MCP tools: the official SDK client over stdio against ``codeteam serve``,
the fake Messages API configured through the server's environment."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from codeteam.assembly import builtin_listing
from codeteam.store import Store
from tests.team.conftest import role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use

TEAM = ["team_run", "code_agent", "test_agent", "review_agent", "deploy_agent"]


@pytest.fixture
def workspace() -> Iterator[Path]:
    ws = Path(tempfile.mkdtemp(prefix="codeteam-tools-"))
    ws.chmod(0o755)
    yield ws
    shutil.rmtree(ws, ignore_errors=True)


def server(ws: Path, **env: str) -> StdioServerParameters:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ws.parent)}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "codeteam", "serve", "--root", str(ws)],
        env={**base, **env},
        cwd=str(ws),
    )


def script(req: ModelRequest) -> Response:
    if role(req) == "lead":
        if req.turn == 0:
            return Reply([tool_use("assign_task", id="w", agent="code", description="hello")])
        return Reply([text("TEAM REPORT")])
    if req.turn == 0:
        return Reply([tool_use("write_file", path="hello.py", content="print('hi')\n")])
    return Reply([text("wrote hello.py")])


def team_env(fake: FakeAnthropic, tmp: Path) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": fake.url,
        "CODETEAM_MODEL": "claude-test",
        "CODETEAM_TEAM_DB": str(tmp / "runs.db"),
        "CODETEAM_RUN_DIR": str(tmp / "runs"),
    }


async def test_team_tools_are_listed_only_with_a_provider_configured(workspace: Path) -> None:
    async with Client(server(workspace)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == list(builtin_listing.NAMES)
    async with Client(server(workspace, CODETEAM_TEAM_PROVIDER="anthropic")) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert names == [*builtin_listing.NAMES, *TEAM]


async def test_team_run_through_the_mcp_client_reports_progress_and_writes_the_workspace(
    workspace: Path, tmp_path: Path
) -> None:
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    with FakeAnthropic(script) as fake:
        async with Client(server(workspace, **team_env(fake, tmp_path))) as client:
            result = await client.call_tool(
                "team_run",
                {"request": "say hello", "workspace": "."},
                progress_callback=on_progress,
            )
    assert fake.rejections == []
    out: Any = result.structured_content
    assert result.is_error is False, out
    assert out["status"] == "ok" and "TEAM REPORT" in out["report"]
    assert [(t["id"], t["status"]) for t in out["tasks"]] == [("w", "ok")]
    assert (workspace / "hello.py").read_text() == "print('hi')\n"
    messages = [m for _, m in seen]
    assert "plan: w (code)" in messages and "w: write_file ok" in messages
    assert "w: ok" in messages
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)  # progress only grows
    # The team's own session did not see team tools: the code agent was offered none.
    specialist = [c.body for c in fake.calls if role(ModelRequest(c.body)) == "code"]
    offered = {t["name"] for t in specialist[0]["tools"]}
    assert not offered & set(TEAM) and "write_file" in offered
    store = Store(tmp_path / "runs.db")
    run = store.get_run(out["run_id"])
    store.close()
    assert run is not None and run["status"] == "completed"


async def test_code_agent_tool_runs_one_specialist_without_a_lead(
    workspace: Path, tmp_path: Path
) -> None:
    with FakeAnthropic(script) as fake:
        async with Client(server(workspace, **team_env(fake, tmp_path))) as client:
            result = await client.call_tool("code_agent", {"task": "write hello.py"})
    out: Any = result.structured_content
    assert out["status"] == "ok" and "wrote hello.py" in out["report"]
    assert all(role(ModelRequest(c.body)) == "code" for c in fake.calls)
    assert (workspace / "hello.py").exists()


async def test_blank_requests_are_refused_by_the_team_tools_before_any_model_call(
    workspace: Path, tmp_path: Path
) -> None:
    with FakeAnthropic(script) as fake:
        async with Client(server(workspace, **team_env(fake, tmp_path))) as client:
            run = await client.call_tool("team_run", {"request": " \n\t ", "workspace": "."})
            agent = await client.call_tool("code_agent", {"task": ""})
    for result, name in ((run, "request"), (agent, "task")):
        out: Any = result.structured_content
        assert result.is_error is True and out["status"] == "rejected"
        assert out["error"] == f"{name} is empty: say what to build or change, in plain words"
    assert fake.calls == [] and not (tmp_path / "runs.db").exists()
