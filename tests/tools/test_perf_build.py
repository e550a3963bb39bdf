"""run_benchmarks, profile and build on real sample projects in the real sandbox, plus
run_tests(race=true) finding a real data race and code_review's optional mypy."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.tools.helpers import call

PY_SLOW = """
def slow():
    total = 0
    for i in range(300_000):
        total += i % 7
    return total

def quick():
    return 1

for _ in range(3):
    slow()
quick()
print("done")
"""

GO_SLOW = """package main

import "fmt"

func slow() int {
	t := 0
	for i := 0; i < 400_000_000; i++ {
		t += i % 7
	}
	return t
}

func main() { fmt.Println(slow()) }
"""


def rejected(out: Any, fragment: str) -> None:
    assert out.is_error is True
    assert out.structured["status"] == "rejected", out.structured
    assert fragment in out.structured["error"], out.structured["error"]
    assert "\n" not in out.structured["error"]


# ---------------------------------------------------------------------- benchmarks


async def test_python_benchmarks_report_pytest_benchmark_figures(ctx: Any) -> None:
    out = await call(ctx, "run_benchmarks", path="pybench")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["language"] == "python" and s["path"] == "pybench"
    marks = {b["name"]: b for b in s["benchmarks"]}
    assert set(marks) == {
        "tests/test_slowmod.py::test_fast_sum_benchmark",
        "tests/test_slowmod.py::test_slow_sum_benchmark",
    }
    slow = marks["tests/test_slowmod.py::test_slow_sum_benchmark"]
    fast = marks["tests/test_slowmod.py::test_fast_sum_benchmark"]
    assert slow["rounds"] == 3 and slow["iterations"] == 1
    assert slow["ns_per_op"] > fast["ns_per_op"] > 0
    for b in (slow, fast):
        assert b["min_ns"] <= b["ns_per_op"] <= b["max_ns"]
        assert b["stddev_ns"] >= 0
        assert b["bytes_per_op"] is None and b["allocs_per_op"] is None
    assert "ns/op" in out.text


async def test_python_benchmark_select_runs_only_that_one(ctx: Any) -> None:
    out = await call(ctx, "run_benchmarks", path="pybench", select=["test_fast_sum_benchmark"])
    names = [b["name"] for b in out.structured["benchmarks"]]
    assert names == ["tests/test_slowmod.py::test_fast_sum_benchmark"], out.text


async def test_go_benchmarks_report_ns_bytes_and_allocs(ctx: Any) -> None:
    out = await call(ctx, "run_benchmarks", path="gobench")
    s = out.structured
    assert s["status"] == "ok", out.text
    marks = {b["name"]: b for b in s["benchmarks"]}
    assert set(marks) == {"perf::BenchmarkFast", "perf::BenchmarkAlloc"}, out.text
    fast, alloc = marks["perf::BenchmarkFast"], marks["perf::BenchmarkAlloc"]
    assert fast["ns_per_op"] > 0 and fast["iterations"] > 1000
    assert fast["bytes_per_op"] == 0 and fast["allocs_per_op"] == 0
    assert alloc["bytes_per_op"] >= 800 and alloc["allocs_per_op"] == 1
    assert fast["rounds"] is None


async def test_go_benchmark_select_and_bad_select(ctx: Any) -> None:
    out = await call(ctx, "run_benchmarks", path="gobench/perf", select=["BenchmarkAlloc"])
    assert [b["name"] for b in out.structured["benchmarks"]] == ["BenchmarkAlloc"], out.text
    rejected(
        await call(ctx, "run_benchmarks", path="gobench", select=["TestSlow"]), "Benchmark names"
    )


async def test_project_without_benchmarks_says_so(ctx: Any) -> None:
    out = await call(ctx, "run_benchmarks", path="goproj")
    assert out.structured["status"] == "no_benchmarks", out.text
    assert out.structured["benchmarks"] == []


# ---------------------------------------------------------------------- profile


async def test_python_code_profile_puts_the_slow_function_first(ctx: Any) -> None:
    out = await call(ctx, "profile", code=PY_SLOW, language="python")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["target"] == "<code>"
    top = s["entries"][0]
    assert top["function"] == "slow", s["entries"][:3]
    assert top["file"] == "main.py" and top["line"] == 2
    assert top["calls"] == 3
    assert top["cumulative_ms"] >= top["total_ms"] > 0
    assert "done" in s["output"]
    assert not any("codeteam_profile" in e["file"] for e in s["entries"])


async def test_python_project_profile_finds_slow_sum(ctx: Any) -> None:
    out = await call(ctx, "profile", path="pybench", select=["test_slow_sum_value"], top=5)
    s = out.structured
    assert s["status"] == "ok", out.text
    assert len(s["entries"]) <= 5
    top = s["entries"][0]
    assert (top["function"], top["file"], top["line"]) == ("slow_sum", "slowmod.py", 4)


async def test_python_project_profile_runs_its_benchmark_tests_too(ctx: Any) -> None:
    """pytest-benchmark's timing hooks fight cProfile: the benchmarks run once, profiled."""
    out = await call(ctx, "profile", path="pybench")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["entries"][0]["function"] == "slow_sum", s["entries"][:3]


async def test_go_project_profile_finds_slow(ctx: Any) -> None:
    out = await call(ctx, "profile", path="gobench/perf", select=["TestSlow"])
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["entries"][0]["function"] == "example.com/gobench/perf.Slow", out.text
    assert s["entries"][0]["total_ms"] > 0
    assert s["entries"][0]["cumulative_ms"] >= s["entries"][0]["total_ms"]


async def test_go_code_profile_finds_slow(ctx: Any) -> None:
    out = await call(ctx, "profile", code=GO_SLOW, language="go")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["entries"][0]["function"] == "main.slow", out.text


async def test_profile_needs_exactly_one_of_path_and_code(ctx: Any) -> None:
    rejected(await call(ctx, "profile"), "exactly one of code or path")
    rejected(
        await call(ctx, "profile", path="pybench", code="print(1)", language="python"),
        "exactly one of code or path",
    )
    rejected(await call(ctx, "profile", code="print(1)"), "language is required")
    rejected(await call(ctx, "profile", path="/etc"), "outside the workspace roots")
    rejected(await call(ctx, "profile", path="gobench"), "one Go package")


# ---------------------------------------------------------------------- build


async def test_wheel_builds_offline_and_installs(ctx: Any, workspace: Path, tmp_path: Path) -> None:
    out = await call(ctx, "build", path="pybench", target="wheel")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert s["sandboxed"] is True
    (artifact,) = s["artifacts"]
    assert artifact["path"] == "pybench/dist/pybench-0.1.0-py3-none-any.whl"
    wheel = workspace / artifact["path"]
    assert wheel.stat().st_size == artifact["size"]
    import hashlib

    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == artifact["sha256"]
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    done = subprocess.run(
        [str(python), "-c", "import slowmod; print(slowmod.fast_sum(4))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert done.stdout.strip() == "6"


async def test_go_binary_builds_and_runs(ctx: Any, workspace: Path) -> None:
    out = await call(ctx, "build", path="gobench", target="binary")
    s = out.structured
    assert s["status"] == "ok", out.text
    (artifact,) = s["artifacts"]
    assert artifact["path"] == "gobench/bin/gobench"
    binary = workspace / artifact["path"]
    done = subprocess.run([str(binary)], capture_output=True, text=True, check=True, timeout=30)
    assert done.stdout.strip() == "gobench 45"


async def test_go_binary_of_a_library_package_is_an_error(ctx: Any) -> None:
    out = await call(ctx, "build", path="gobench/perf", target="binary")
    assert out.structured["status"] == "error", out.text
    assert "not package main" in out.structured["output"]
    assert out.structured["artifacts"] == []


@pytest.mark.parametrize(
    ("project", "expected"),
    [("pybench", "FROM python:3.11-slim AS build"), ("gobench", "FROM golang:1.27 AS build")],
)
async def test_dockerfile_is_written_and_not_overwritten(
    ctx: Any, workspace: Path, project: str, expected: str
) -> None:
    out = await call(ctx, "build", path=project, target="dockerfile")
    assert out.structured["status"] == "ok", out.text
    dockerfile = workspace / project / "Dockerfile"
    assert expected in dockerfile.read_text()
    assert out.structured["artifacts"][0]["path"] == f"{project}/Dockerfile"
    dockerfile.write_text("# mine\n")
    rejected(await call(ctx, "build", path=project, target="dockerfile"), "overwrite=true")
    assert dockerfile.read_text() == "# mine\n"
    again = await call(ctx, "build", path=project, target="dockerfile", overwrite=True)
    assert again.structured["status"] == "ok"
    assert expected in dockerfile.read_text()


async def test_docker_image_without_an_engine_is_unavailable(
    ctx: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an engine may well answer on this machine (the container tests start one): the
    # client is pointed at a socket where none does, as DOCKER_HOST does for users
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    out = await call(ctx, "build", path="gobench", target="docker_image")
    assert out.is_error is True
    assert out.structured["status"] == "unavailable", out.structured
    assert out.structured["error"].startswith("no Docker engine: ")
    assert not (workspace / "gobench" / "Dockerfile").exists()


async def test_build_bad_input(ctx: Any, workspace: Path) -> None:
    rejected(await call(ctx, "build", path="pybench", target="jar"), "expected one of")
    rejected(await call(ctx, "build", path="../etc", target="wheel"), "'..'")
    rejected(await call(ctx, "build", path="/tmp", target="wheel"), "outside the workspace")
    rejected(await call(ctx, "build", path="pybench", target="binary"), "target=wheel")
    rejected(await call(ctx, "build", path="gobench", target="wheel"), "target=binary")


async def test_build_refuses_a_dist_symlink_out_of_the_roots(
    ctx: Any, workspace: Path, tmp_path: Path
) -> None:
    (workspace / "pybench" / "dist").symlink_to(tmp_path)
    rejected(await call(ctx, "build", path="pybench", target="wheel"), "outside the workspace")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- issue 2 leftovers


async def test_go_race_detector_finds_a_data_race(ctx: Any, state_dir: Path) -> None:
    plain = await call(ctx, "run_tests", path="gobench/racy")
    assert plain.structured["status"] == "ok", plain.text
    out = await call(ctx, "run_tests", path="gobench/racy", race=True, timeout_s=120)
    s = out.structured
    assert s["status"] == "failed", out.text
    (case,) = s["tests"]
    assert case["name"] == "TestCounterRace" and case["outcome"] == "failed"
    assert "DATA RACE" in s["output"] or "race detected" in (case["message"] or "")
    # The -race standard library was built once from trusted source into the seed, which
    # each -race call copies into a private cache that is gone afterwards.
    cache = state_dir / "cache"  # a directory per build uid
    assert list(cache.glob("*/go-race-seed/ready-*")), "no race seed"
    assert not list(cache.glob("*/private-*"))


RACE_HOG = """package hog

import "testing"

// Holds 6 GiB in 256 MiB blocks, touching every page: more than a -race run may hold.
func TestHog(t *testing.T) {
	var held [][]byte
	for i := 0; i < 24; i++ {
		b := make([]byte, 256<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		held = append(held, b)
		t.Logf("holding %d MiB", (i+1)*256)
	}
	t.Logf("held all %d blocks", len(held))
}
"""


async def test_a_race_run_without_an_address_space_limit_is_still_capped_in_memory(
    ctx: Any, workspace: Path
) -> None:
    """-race lifts RLIMIT_AS (ThreadSanitizer reserves terabytes of it); the call's memory
    cgroup (4 GiB for -race) is what stops a test from holding more."""
    found = ctx.services.executor.sandbox.memory_cgroups  # the local executor's
    if isinstance(found, str):
        pytest.skip(f"no memory cgroups for calls here (the hog would not be bounded): {found}")
    hog = workspace / "gobench" / "hog"
    hog.mkdir()
    hog.chmod(0o755)
    (hog / "hog_test.go").write_text(RACE_HOG)
    (hog / "hog_test.go").chmod(0o644)
    out = await call(ctx, "run_tests", path="gobench/hog", race=True, timeout_s=180)
    s = out.structured
    assert s["status"] in ("killed", "failed", "error"), out.text
    assert "held all 24 blocks" not in s["output"]
    assert "holding 256 MiB" in s["output"]  # it did run, and was stopped on the way


async def test_race_is_refused_for_python(ctx: Any) -> None:
    rejected(await call(ctx, "run_tests", path="pyproj", race=True), "Go tests only")


async def test_strict_types_adds_mypy_findings(ctx: Any) -> None:
    code = "def f(x):\n    return x + 1\n\n\nf('a')\n"
    default = await call(ctx, "code_review", code=code, language="python")
    assert "mypy" not in default.structured["tools_run"]
    out = await call(ctx, "code_review", code=code, language="python", strict_types=True)
    s = out.structured
    assert "mypy" in s["tools_run"], out.text
    mine = [f for f in s["findings"] if f["tool"] == "mypy"]
    assert mine and mine[0]["rule"] == "no-untyped-def", mine
    assert (mine[0]["file"], mine[0]["line"], mine[0]["severity"]) == ("main.py", 1, "error")
