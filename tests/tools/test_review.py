"""code_review: real findings from ruff, bandit, go vet and gofmt, and an explicit clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tools.helpers import call


def rules(structured: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["tool"], f["rule"].split()[0]) for f in structured["findings"]}


async def test_python_snippet_findings_from_ruff_and_bandit(ctx: Any) -> None:
    code = "import os\nimport subprocess\n\nsubprocess.call('ls ' + x, shell=True)\n"
    out = await call(ctx, "code_review", code=code, language="python")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["clean"] is False
    assert ("ruff", "F401") in rules(s)  # os unused
    assert ("ruff", "F821") in rules(s)  # x undefined
    assert ("bandit", "B602") in rules(s)  # shell=True
    f401 = next(f for f in s["findings"] if f["rule"] == "F401")
    assert (f401["file"], f401["line"], f401["column"]) == ("main.py", 1, 8)
    assert f401["severity"] == "warning"
    assert set(s["tools_run"]) == {"ruff", "bandit"}


async def test_clean_python_is_explicitly_clean(ctx: Any) -> None:
    out = await call(
        ctx, "code_review", code="def add(a, b):\n    return a + b\n", language="python"
    )
    s = out.structured
    assert s["status"] == "ok"
    assert s["clean"] is True
    assert s["findings"] == []
    assert "no findings" in s["summary"]
    assert out.is_error is False


async def test_go_snippet_vet_and_gofmt_findings(ctx: Any) -> None:
    code = 'package main\nimport "fmt"\nfunc main(){ fmt.Printf("%d\\n", "x") }\n'
    out = await call(ctx, "code_review", code=code, language="go")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert ("go vet", "printf") in rules(s)
    assert ("gofmt", "gofmt") in rules(s)
    vet = next(f for f in s["findings"] if f["tool"] == "go vet")
    assert (vet["file"], vet["line"]) == ("main.go", 3)
    assert "wrong type" in vet["message"]
    assert "staticcheck" in s["skipped_tools"]


async def test_go_project_path_clean(ctx: Any) -> None:
    out = await call(ctx, "code_review", path="goproj")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["clean"] is True, out.text
    assert s["language"] == "go"


async def test_python_path_review_names_project_files(ctx: Any, workspace: Path) -> None:
    bad = workspace / "pyproj" / "shell.py"
    bad.write_text("import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n")
    bad.chmod(0o644)
    out = await call(ctx, "code_review", path="pyproj")
    s = out.structured
    assert ("bandit", "B602") in rules(s)
    assert {f["file"] for f in s["findings"] if f["tool"] == "bandit"} == {"shell.py"}


async def test_review_requires_exactly_one_of_code_or_path(ctx: Any) -> None:
    neither = await call(ctx, "code_review", language="python")
    both = await call(ctx, "code_review", code="x = 1\n", path="pyproj", language="python")
    for out in (neither, both):
        assert out.is_error is True
        assert out.structured["status"] == "rejected"
        assert "exactly one of code or path" in out.structured["error"]
