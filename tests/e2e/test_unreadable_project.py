"""``codeteam serve --root DIR`` where DIR is 0700 (what ``mktemp -d`` makes), through a
real MCP session: the tests run (on a snapshot, and the result says so); over the snapshot
cap, or when even the server cannot read DIR, one line naming DIR, the reason and the
fix, never a raw bubblewrap message."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.conftest import PYTHON, connect, require_sandbox, server_env

SETPRIV = "/usr/bin/setpriv"
NO_DAC = "-dac_override,-dac_read_search"


@pytest.fixture
def private_dir() -> Iterator[Path]:
    require_sandbox()
    path = Path(tempfile.mkdtemp(prefix="codeteam-0700-"))
    assert path.stat().st_mode & 0o777 == 0o700
    (path / "test_it.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    (path / "test_it.py").chmod(0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def one_line_error(r: Any, *parts: str) -> str:
    assert r.is_error is True, r
    text = r.content[0].text
    assert "\n" not in text and "bwrap" not in text and "Can't chdir" not in text, text
    for part in parts:
        assert part in text, text
    return str(text)


async def test_tests_of_a_0700_root_run_on_a_snapshot_and_say_so(private_dir: Path) -> None:
    async with connect("stdio", "auto", private_dir) as client:
        r = await client.call_tool("run_tests", {"path": "."})
    assert r.structured_content is not None
    s = dict(r.structured_content)
    assert (s["status"], s["passed"], r.is_error) == ("ok", 1, False), s
    assert s["snapshot"] and "mode 0700" in s["snapshot"] and str(private_dir) in s["snapshot"]
    assert f"note: {s['snapshot']}" in r.content[0].text


async def test_over_the_snapshot_cap_is_one_line_with_the_fix(private_dir: Path) -> None:
    (private_dir / "data.bin").write_bytes(b"x" * 8192)
    (private_dir / "data.bin").chmod(0o644)
    args = ("--snapshot-cap", "4096")
    async with connect("stdio", "auto", private_dir, server_args=args) as client:
        r = await client.call_tool("run_tests", {"path": "."})
    one_line_error(
        r, str(private_dir), "mode 0700", "snapshot cap", "chmod -R o+rX", "--snapshot-cap"
    )


async def test_a_project_even_the_server_cannot_read_is_one_line_with_the_fix(
    private_dir: Path,
) -> None:
    """The server runs as root without the capabilities that bypass file permissions; the
    project belongs to another user and is 0700."""
    if not os.access(SETPRIV, os.X_OK):
        pytest.skip("setpriv (util-linux) is not installed")
    private_dir.chmod(0o755)
    project = private_dir / "theirs"
    project.mkdir()
    (project / "test_it.py").write_text("def test_one():\n    pass\n")
    for path in (project, project / "test_it.py"):
        os.chown(path, 65534, 65534)
    project.chmod(0o700)
    server = StdioServerParameters(
        command=SETPRIV,
        args=[
            "--bounding-set",
            NO_DAC,
            "--inh-caps",
            NO_DAC,
            "--",
            PYTHON,
            "-m",
            "codeteam",
            "serve",
            "--root",
            str(private_dir),
        ],
        env=server_env(),
        cwd=str(private_dir),
    )
    async with Client(server, mode="auto") as client:
        for language in ("python", None):
            r = await client.call_tool("run_tests", {"path": "theirs", "language": language})
            one_line_error(r, str(project), "cannot be read by the server", "chmod -R o+rX")
        r = await client.call_tool("execute_code", {"language": "python", "code": "print(3)"})
        assert r.is_error is False and r.structured_content["stdout"] == "3\n"  # still serving
