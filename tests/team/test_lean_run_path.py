"""``codeteam run`` imports only the model SDK of its provider (issue 10 item 4: the memory
of a team run): the one not chosen weighs tens of MiB. Checked on a real run whose task
calls a tool through its own ``codeteam serve``, from the CLI's import log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.team.conftest import role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.fake_openai import ChatReply, FakeOpenAI

pytestmark = pytest.mark.timeout(180)

def anthropic_script(req: ModelRequest) -> Response:
    if role(req) == "lead":
        if req.turn == 0:
            return Reply([tool_use("assign_task", id="w", agent="code", description="write")])
        return Reply([text("REPORT")])
    if req.turn == 0:
        return Reply([tool_use("write_file", path="out.txt", content="done")])
    return Reply([text("wrote out.txt")])


def openai_script(body: dict[str, Any]) -> ChatReply:
    turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if "lead engineer" in body["messages"][0]["content"]:
        if turns == 0:
            assign = {"id": "w", "agent": "code", "description": "write"}
            return ChatReply(tool_calls=[("c1", "assign_task", assign)])
        return ChatReply("REPORT")
    if turns == 0:
        return ChatReply(tool_calls=[("c2", "write_file", {"path": "out.txt", "content": "done"})])
    return ChatReply("wrote out.txt")


def imported_by_run(tmp: Path, provider: str, url: str) -> set[str]:
    """The top-level packages a successful ``codeteam run`` imported."""
    ws = tmp / "ws"
    ws.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env |= {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": url,
        "OPENAI_API_KEY": "k",
        "OPENAI_BASE_URL": url + "/v1",
        "CODETEAM_RUN_DIR": str(tmp / "runs"),
        "PYTHONPROFILEIMPORTTIME": "1",  # servers do not inherit it: only the CLI's log
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "codeteam", "run", "write out", "--provider", provider),
            *("--workspace", str(ws), "--db", str(tmp / "runs.db"), "--json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (ws / "out.txt").read_text() == "done"  # the task's tool call went through
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_an_anthropic_run_does_not_import_openai(tmp_path: Path) -> None:
    with FakeAnthropic(anthropic_script) as fake:
        imported = imported_by_run(tmp_path, "anthropic", fake.url)
    assert "anthropic" in imported
    assert "openai" not in imported


def test_an_openai_run_does_not_import_anthropic(tmp_path: Path) -> None:
    with FakeOpenAI(openai_script) as fake:
        imported = imported_by_run(tmp_path, "openai", fake.url)
    assert "openai" in imported
    assert "anthropic" not in imported
