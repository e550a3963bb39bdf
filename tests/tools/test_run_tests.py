"""run_tests on the sample projects: per-test results field by field, select, no tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tools.helpers import call


def by_name(structured: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in structured["tests"]}


async def test_pytest_reports_each_test(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="pyproj")
    s = out.structured
    assert s["status"] == "failed", out.text
    assert out.is_error is True
    assert s["language"] == "python"
    assert (s["passed"], s["failed"], s["errors"], s["skipped"]) == (2, 1, 0, 1)
    tests = by_name(s)
    assert set(tests) == {
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::test_sub",
        "tests/test_calc.py::test_mul",
        "tests/test_calc.py::TestWrites::test_tmp_path_is_writable",
    }
    assert tests["tests/test_calc.py::test_add"]["outcome"] == "passed"
    assert tests["tests/test_calc.py::test_add"]["message"] is None
    assert tests["tests/test_calc.py::test_sub"]["outcome"] == "failed"
    assert "sub is wrong" in tests["tests/test_calc.py::test_sub"]["message"]
    assert tests["tests/test_calc.py::test_mul"]["outcome"] == "skipped"
    assert "not yet" in tests["tests/test_calc.py::test_mul"]["message"]
    assert all(t["duration_ms"] >= 0 for t in s["tests"])


async def test_pytest_select_by_node_id_runs_only_those(ctx: Any) -> None:
    out = await call(
        ctx,
        "run_tests",
        path="pyproj",
        select=[
            "tests/test_calc.py::test_add",
            "tests/test_calc.py::TestWrites::test_tmp_path_is_writable",
        ],
    )
    s = out.structured
    assert s["status"] == "ok", out.text
    assert out.is_error is False
    assert (s["passed"], s["failed"], s["skipped"]) == (2, 0, 0)


async def test_pytest_select_by_name(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="pyproj", language="python", select=["test_sub"])
    assert out.structured["status"] == "failed"
    assert [t["name"] for t in out.structured["tests"]] == ["tests/test_calc.py::test_sub"]


async def test_pytest_select_matching_nothing_is_no_tests(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="pyproj", select=["test_does_not_exist"])
    assert out.structured["status"] == "no_tests", out.text
    assert out.structured["tests"] == []


async def test_project_stays_unwritten_by_the_run(ctx: Any, workspace: Path) -> None:
    before = sorted(p.relative_to(workspace) for p in (workspace / "pyproj").rglob("*"))
    await call(ctx, "run_tests", path="pyproj")
    after = sorted(p.relative_to(workspace) for p in (workspace / "pyproj").rglob("*"))
    assert after == before  # no .pytest_cache, no __pycache__


async def test_pytest_collection_error_is_error(ctx: Any, workspace: Path) -> None:
    (workspace / "pyproj" / "tests" / "test_broken.py").write_text("import nope_missing\n")
    (workspace / "pyproj" / "tests" / "test_broken.py").chmod(0o644)
    out = await call(ctx, "run_tests", path="pyproj/tests/test_broken.py")
    assert out.structured["status"] == "error", out.text
    assert "nope_missing" in out.text


async def test_go_test_reports_each_test(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="goproj")
    s = out.structured
    assert s["status"] == "failed", out.text
    assert s["language"] == "go"
    assert (s["passed"], s["failed"], s["errors"], s["skipped"]) == (3, 1, 0, 1)
    tests = by_name(s)
    assert set(tests) == {
        "calc::TestAdd",
        "calc::TestSub",
        "calc::TestMul",
        "strutil::TestShout",
        "strutil::TestReadsFixtureFromPackageDir",
    }
    assert tests["calc::TestSub"]["outcome"] == "failed"
    assert "Sub(5, 3) = 8, want 2" in tests["calc::TestSub"]["message"]
    assert tests["calc::TestMul"]["outcome"] == "skipped"
    assert tests["calc::TestAdd"]["message"] is None
    assert tests["strutil::TestReadsFixtureFromPackageDir"]["outcome"] == "passed"
    assert "Sub(5, 3) = 8, want 2" in s["output"]


async def test_go_select_is_anchored(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="goproj/calc", select=["TestAdd"])
    s = out.structured
    assert s["status"] == "ok", out.text
    assert [t["name"] for t in s["tests"]] == ["TestAdd"]


async def test_go_select_per_package(ctx: Any) -> None:
    out = await call(ctx, "run_tests", path="goproj", select=["strutil::TestShout"])
    assert [t["name"] for t in out.structured["tests"]] == ["strutil::TestShout"]
    assert out.structured["status"] == "ok"


async def test_go_compile_error_is_error(ctx: Any, workspace: Path) -> None:
    broken = workspace / "goproj" / "calc" / "broken_test.go"
    broken.write_text("package calc\n\nfunc TestBroken(t *testing.T) {}\n")
    broken.chmod(0o644)
    out = await call(ctx, "run_tests", path="goproj/calc")
    assert out.structured["status"] == "error", out.text
    assert "undefined: testing" in out.structured["output"]


async def test_go_package_without_tests_is_no_tests(ctx: Any, workspace: Path) -> None:
    (workspace / "goproj" / "empty").mkdir(mode=0o755)
    (workspace / "goproj" / "empty" / "e.go").write_text("package empty\n")
    (workspace / "goproj" / "empty" / "e.go").chmod(0o644)
    out = await call(ctx, "run_tests", path="goproj/empty")
    assert out.structured["status"] == "no_tests", out.text


async def test_run_tests_sends_progress(ctx: Any) -> None:
    await call(ctx, "run_tests", path="pyproj")
    assert ctx.progress_calls


async def test_go_broken_module_is_error_not_no_tests(ctx: Any, workspace: Path) -> None:
    (workspace / "goproj" / "go.mod").write_text("module example.com/goproj\n\ngo 1.22\nbogus\n")
    out = await call(ctx, "run_tests", path="goproj")
    assert out.structured["status"] == "error", out.text
    assert "go.mod" in out.structured["output"]
