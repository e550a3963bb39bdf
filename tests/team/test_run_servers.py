"""What a team run keeps of its MCP servers (issue 10 item 4: the memory of a team run):
the workspace's server only for its listing when tasks have their own, and one pooled
sandbox per task server unless the environment says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codeteam.team.mcp import TASK_SERVER_DEFAULTS, _server_env, connect


def children() -> list[str]:
    """Command lines of this process's live children."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid():
            found.append(cmdline)
    return found


async def test_a_listing_only_server_is_stopped_once_listed_and_calls_fail_as_protocol_errors(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    async with connect(None, tmp_path, listing_only=True) as tools:
        assert "write_file" in tools.tools
        assert not [c for c in children() if "codeteam serve" in c]
        out = await tools.call("write_file", {"path": "x.txt", "content": "x"})
    assert (out.is_error, out.status) == (True, "protocol_error")
    assert "stopped after listing" in out.text
    assert not (tmp_path / "x.txt").exists()


def test_a_task_server_pre_starts_one_sandbox_unless_the_environment_sets_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CODETEAM_POOL_SIZE", raising=False)
    assert _server_env(TASK_SERVER_DEFAULTS)["CODETEAM_POOL_SIZE"] == "1"
    assert "CODETEAM_POOL_SIZE" not in _server_env({})
    monkeypatch.setenv("CODETEAM_POOL_SIZE", "3")
    assert _server_env(TASK_SERVER_DEFAULTS)["CODETEAM_POOL_SIZE"] == "3"
