"""The registry and list_toolchains."""

from __future__ import annotations

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
