"""Workspace tools: read, write, list, confined to the roots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.tools.helpers import call


async def test_write_then_read_roundtrip(ctx: Any, workspace: Path) -> None:
    out = await call(ctx, "write_file", path="new/dir/hello.py", content="print('hi')\n")
    assert out.structured == {
        "status": "ok",
        "path": "new/dir/hello.py",
        "bytes_written": 12,
        "created": True,
    }
    assert (workspace / "new/dir/hello.py").read_text() == "print('hi')\n"
    again = await call(ctx, "write_file", path="new/dir/hello.py", content="x = 1\n")
    assert again.structured["created"] is False
    read = await call(ctx, "read_file", path="new/dir/hello.py")
    assert read.structured["content"] == "x = 1\n"
    assert read.structured["truncated"] is False
    assert not [p for p in (workspace / "new/dir").iterdir() if p.name.startswith(".codeteam-")]


async def test_a_root_server_gives_what_it_writes_to_the_workspace_owner(
    ctx: Any, workspace: Path
) -> None:
    # A root server (the container) writing into a host user's workspace must not leave
    # root-owned files there: new files and directories take the workspace root's owner,
    # a replaced file keeps its own.
    if os.geteuid() != 0:
        pytest.skip("only root can give files away")
    os.chown(workspace, 1000, 1000)
    (workspace / "kept.txt").write_text("a")
    os.chown(workspace / "kept.txt", 1001, 1001)
    assert (await call(ctx, "write_file", path="new/dir/f.txt", content="x")).structured["created"]
    assert (await call(ctx, "write_file", path="kept.txt", content="b")).structured["status"] == "ok"
    for rel in ("new", "new/dir", "new/dir/f.txt"):
        st = (workspace / rel).stat()
        assert (st.st_uid, st.st_gid) == (1000, 1000), rel
    st = (workspace / "kept.txt").stat()
    assert (st.st_uid, st.st_gid, (workspace / "kept.txt").read_text()) == (1001, 1001, "b")


async def test_read_with_offset_and_limit(ctx: Any, workspace: Path) -> None:
    (workspace / "lines.txt").write_text("".join(f"line {i}\n" for i in range(10)))
    out = await call(ctx, "read_file", path="lines.txt", offset=2, limit=3)
    s = out.structured
    assert s["content"] == "line 2\nline 3\nline 4\n"
    assert (s["offset"], s["lines"], s["total_lines"], s["truncated"]) == (2, 3, 10, True)


async def test_read_refuses_binary_and_directories(ctx: Any, workspace: Path) -> None:
    (workspace / "blob.bin").write_bytes(b"\x00\x01\x02")
    assert (await call(ctx, "read_file", path="blob.bin")).structured["status"] == "rejected"
    assert (await call(ctx, "read_file", path="pyproj")).structured["status"] == "rejected"


async def test_write_size_capped(ctx: Any) -> None:
    out = await call(
        ctx, "write_file", path="big.txt", content="x" * (ctx.settings.max_code_bytes + 1)
    )
    assert out.structured["status"] == "rejected"
    assert "over the" in out.structured["error"]


async def test_write_outside_roots_refused(ctx: Any) -> None:
    for path in ("/tmp/codeteam-escape.txt", "../escape.txt", "-rf"):
        out = await call(ctx, "write_file", path=path, content="x")
        assert out.structured["status"] == "rejected", path
    assert not Path("/tmp/codeteam-escape.txt").exists()


async def test_absolute_path_inside_root_allowed(ctx: Any, workspace: Path) -> None:
    out = await call(ctx, "read_file", path=str(workspace / "pyproj" / "calc.py"))
    assert out.structured["status"] == "ok"
    assert out.structured["path"] == "pyproj/calc.py"


async def test_list_files_recursive_and_pattern(ctx: Any, workspace: Path) -> None:
    os.makedirs(workspace / "pyproj" / "__pycache__")
    out = await call(ctx, "list_files", path="pyproj")
    paths = {e["path"]: e for e in out.structured["entries"]}
    assert {"calc.py", "pyproject.toml", "tests", "tests/test_calc.py"} <= set(paths)
    assert paths["tests"]["type"] == "dir"
    assert paths["calc.py"]["size"] == (workspace / "pyproj/calc.py").stat().st_size
    assert "__pycache__" not in paths
    py = await call(ctx, "list_files", path="goproj", pattern="*.go")
    assert {f"goproj/{e['path']}" for e in py.structured["entries"]} == {
        "goproj/calc/calc.go",
        "goproj/calc/calc_test.go",
        "goproj/strutil/strutil.go",
        "goproj/strutil/strutil_test.go",
    }


async def test_list_files_shows_symlinks_without_following(ctx: Any, workspace: Path) -> None:
    os.symlink("/etc", workspace / "etc-link")
    out = await call(ctx, "list_files")
    entries = {e["path"]: e for e in out.structured["entries"]}
    assert entries["etc-link"]["type"] == "symlink"
    assert not any(p.startswith("etc-link/") for p in entries)
