"""The registry and list_toolchains."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from codeteam.toolchains import Registry, UnknownLanguage
from tests.tools.conftest import RUNTIME
from tests.tools.helpers import call


def test_builtins_registered_and_cached() -> None:
    registry = Registry(RUNTIME)
    assert registry.languages()[:2] == ["python", "go"]
    assert registry.get("go") is registry.get("go")
    with pytest.raises(UnknownLanguage, match="available: python, go"):
        registry.get("cobol")


def test_language_detection_from_path(workspace: Path) -> None:
    registry = Registry(RUNTIME)
    assert registry.for_path(workspace, workspace / "goproj" / "calc") == "go"
    assert registry.for_path(workspace, workspace / "pyproj" / "tests") == "python"
    assert registry.for_path(workspace, workspace / "pyproj" / "calc.py") == "python"
    assert registry.for_path(workspace, workspace / "pyproj" / "pyproject.toml") is None


async def test_list_toolchains_reports_versions(ctx: Any) -> None:
    out = await call(ctx, "list_toolchains")
    s = out.structured
    assert s["status"] == "ok"
    langs = {lang["language"]: lang for lang in s["languages"]}
    assert langs["python"]["available"] is True
    assert langs["go"]["available"] is True
    tools = {t["name"]: t for t in langs["python"]["tools"]}
    assert tools["pytest"]["version"]
    assert tools["ruff"]["version"]
    go_tools = {t["name"]: t for t in langs["go"]["tools"]}
    assert go_tools["go"]["version"].startswith("1.")
    assert out.structured is not None and "python" in out.text


def test_without_a_runtime_python_falls_back_to_the_system_interpreter_and_names_its_version(
    tmp_path: Path,
) -> None:
    """A server installed with pipx and no runtime still runs Python code, with Debian's
    /usr/bin/python3; list_toolchains says which version that is."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3 on this machine")
    info = Registry(tmp_path / "no-runtime").get("python").detect()
    python = next(t for t in info.tools if t.name == "python")
    assert info.available and python.path == str(system)
    name = Path(os.path.realpath(system)).name  # python3.11
    assert python.version == name.removeprefix("python")


async def test_list_toolchains_detects_once_per_server(
    ctx: Any, workspace: Path, state_dir: Path
) -> None:
    """Calls at once share one detection, later calls get the very same answer (its
    encoding is reused); another server's services detect for themselves."""
    import asyncio

    from codeteam.tools.toolchains_tool import list_toolchains
    from tests.tools.conftest import make_context

    first, second = await asyncio.gather(list_toolchains(ctx), list_toolchains(ctx))
    assert first is second and await list_toolchains(ctx) is first
    other = make_context(workspace, state_dir)
    try:
        theirs = await list_toolchains(other)
        assert theirs is not first and theirs == first
    finally:
        await other.services.aclose()
