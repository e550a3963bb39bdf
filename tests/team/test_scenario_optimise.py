"""Scenario 2 end to end against the real ``codeteam serve``: "optimise the performance of
this code", in Python and in Go. The lead plans profile-first; the code agent profiles,
measures, changes the bottleneck and measures again; review lints; test confirms the tests
pass; the report carries the measured before/after figures from run_benchmarks."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codeteam.llm.anthropic import AnthropicProvider
from codeteam.store import Store
from codeteam.team.config import TeamConfig
from codeteam.team.runner import run_team
from tests.team.conftest import FAST, role, task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use

PY_SLOW = '''def count_common(a: list[int], b: list[int]) -> int:
    """How many items of a are also in b."""
    return sum(1 for x in a if x in b)
'''
PY_FAST = '''def count_common(a: list[int], b: list[int]) -> int:
    """How many items of a are also in b."""
    seen = set(b)
    return sum(1 for x in a if x in seen)
'''
PY_TESTS = """from common import count_common


def test_count_common() -> None:
    assert count_common([1, 2, 3, 4], [2, 4, 6]) == 2
    a, b = list(range(2000)), list(range(1000, 3000))
    for _ in range(5):
        assert count_common(a, b) == 1000


def test_bench_count_common(benchmark) -> None:
    a, b = list(range(2000)), list(range(1000, 3000))
    assert benchmark.pedantic(count_common, args=(a, b), rounds=5, iterations=1) == 1000
"""

GO_MOD = "module perfdemo\n\ngo 1.21\n"
GO_SLOW = """// Package perfdemo counts common items.
package perfdemo

// CountCommon counts the items of a that are also in b.
func CountCommon(a, b []int) int {
\tn := 0
\tfor _, x := range a {
\t\tfor _, y := range b {
\t\t\tif x == y {
\t\t\t\tn++
\t\t\t\tbreak
\t\t\t}
\t\t}
\t}
\treturn n
}
"""
GO_FAST = """// Package perfdemo counts common items.
package perfdemo

// CountCommon counts the items of a that are also in b.
func CountCommon(a, b []int) int {
\tseen := make(map[int]struct{}, len(b))
\tfor _, y := range b {
\t\tseen[y] = struct{}{}
\t}
\tn := 0
\tfor _, x := range a {
\t\tif _, ok := seen[x]; ok {
\t\t\tn++
\t\t}
\t}
\treturn n
}
"""
GO_TESTS = """package perfdemo

import "testing"

func inputs() ([]int, []int) {
\ta, b := make([]int, 2000), make([]int, 2000)
\tfor i := range a {
\t\ta[i], b[i] = i, i+1000
\t}
\treturn a, b
}

func TestCountCommon(t *testing.T) {
\tif n := CountCommon([]int{1, 2, 3, 4}, []int{2, 4, 6}); n != 2 {
\t\tt.Fatalf("got %d", n)
\t}
\ta, b := inputs()
\tfor i := 0; i < 20; i++ {
\t\tif n := CountCommon(a, b); n != 1000 {
\t\t\tt.Fatalf("got %d", n)
\t\t}
\t}
}

func BenchmarkCountCommon(b *testing.B) {
\tx, y := inputs()
\tfor i := 0; i < b.N; i++ {
\t\tCountCommon(x, y)
\t}
}
"""

PROJECT = {
    "python": {
        "files": {"common.py": PY_SLOW, "test_common.py": PY_TESTS},
        "source": "common.py",
        "fast": PY_FAST,
        "hot": "common.py:3",  # the membership test inside count_common
        "unit_test": "test_count_common",
    },
    "go": {
        "files": {"go.mod": GO_MOD, "common.go": GO_SLOW, "common_test.go": GO_TESTS},
        "source": "common.go",
        "fast": GO_FAST,
        "hot": "CountCommon",
        "unit_test": "TestCountCommon",
    },
}


def scenario(language: str) -> Callable[[ModelRequest], Response]:
    p = PROJECT[language]

    def script(req: ModelRequest) -> Response:
        who, turn, tid = role(req), req.turn, task_id(req)
        if who == "lead":
            if turn == 0:
                return Reply(
                    [
                        text("Profile first, then change the bottleneck, then lint and test."),
                        tool_use(
                            "assign_task",
                            id="measure",
                            agent="code",
                            description="Profile the project and run its benchmarks.",
                        ),
                        tool_use(
                            "assign_task",
                            id="optimise",
                            agent="code",
                            depends_on=["measure"],
                            description="Change the bottleneck; run the benchmarks again.",
                        ),
                        tool_use(
                            "assign_task",
                            id="review",
                            agent="review",
                            depends_on=["optimise"],
                            description="Lint the changed code.",
                        ),
                        tool_use(
                            "assign_task",
                            id="test",
                            agent="test",
                            depends_on=["optimise"],
                            description="Confirm the tests still pass.",
                        ),
                    ]
                )
            outcomes = [r["content"] for r in req.last_results]
            return Reply([text("Advice: use a hash set for membership.\n" + "\n".join(outcomes))])
        if tid == "measure":
            if turn == 0:
                # The unit test only: pytest-benchmark's own timing cannot run under
                # cProfile (it swaps the profiler out).
                sel = [p["unit_test"]]
                return Reply([tool_use("profile", path=".", language=language, select=sel)])
            if turn == 1:
                hot = req.last_results[0]["content"]
                assert not req.last_results[0]["is_error"], hot
                return Reply([tool_use("run_benchmarks", path=".", language=language)])
            profile_text = req.messages[2]["content"][0]["content"]
            return Reply([text("bottleneck found:\n" + profile_text[:400])])
        if tid == "optimise":
            if turn == 0:
                assert "bottleneck found" in req.first_text
                return Reply([tool_use("write_file", path=p["source"], content=p["fast"])])
            if turn == 1:
                return Reply([tool_use("run_benchmarks", path=".", language=language)])
            return Reply([text("optimised: " + req.last_results[0]["content"][:300])])
        if tid == "review":
            if turn == 0:
                return Reply([tool_use("code_review", path=p["source"], language=language)])
            return Reply([text("review: " + req.last_results[0]["content"][:300])])
        if tid == "test":
            if turn == 0:
                return Reply([tool_use("run_tests", path=".", language=language)])
            result = req.last_results[0]
            verdict = "FAILED" if result["is_error"] else "passed"
            return Reply([text(f"tests {verdict}: {result['content'][:300]}")])
        raise AssertionError(f"unexpected caller {who} {tid}")

    return script


@pytest.fixture
def workspace() -> Iterator[Path]:
    ws = Path(tempfile.mkdtemp(prefix="codeteam-optimise-"))
    ws.chmod(0o755)
    yield ws
    shutil.rmtree(ws, ignore_errors=True)


@pytest.mark.parametrize("language", ["python", "go"])
async def test_scenario_optimise_reports_measured_before_and_after(
    language: str, workspace: Path, store: Store
) -> None:
    p: dict[str, Any] = PROJECT[language]
    for name, content in p["files"].items():
        (workspace / name).write_text(content)
    request = f"Optimise the performance of this code:\n{p['files'][p['source']]}"
    with FakeAnthropic(scenario(language)) as fake:
        provider = AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=FAST)
        result = await run_team(TeamConfig(request=request, workspace=workspace), provider, store)
        await provider.aclose()
    assert fake.rejections == []
    assert result.status == "completed", result.error
    assert {k: v.status for k, v in result.tasks.items()} == dict.fromkeys(
        ("measure", "optimise", "review", "test"), "ok"
    ), {k: v.error for k, v in result.tasks.items()}
    # The profile found the bottleneck (its top entry); the tests still pass after the change.
    top = result.tasks["measure"].summary.splitlines()[3]
    assert p["hot"] in top, result.tasks["measure"].summary
    assert "tests passed" in result.tasks["test"].summary
    assert (workspace / p["source"]).read_text() == p["fast"]
    # Measured before and after, from run_benchmarks: the change made it faster.
    assert [t for t, _ in result.benchmarks] == ["measure", "optimise"]
    (_, before), (_, after) = result.benchmarks
    name = next(n for n in before if "ount" in n)
    assert after[name] < before[name] / 3, (before, after)
    assert "Benchmarks, before (measure) -> after (optimise)" in result.report
    assert f"{before[name]:,.0f} -> {after[name]:,.0f} ns/op" in result.report
    run = store.get_run(result.run_id)
    assert run is not None
    calls = [(c["task_id"], c["name"], c["status"]) for c in run["tool_calls"]]
    assert ("measure", "profile", "ok") in calls and ("test", "run_tests", "ok") in calls
    assert [c for c in calls if c[1] == "run_benchmarks"] == [
        ("measure", "run_benchmarks", "ok"),
        ("optimise", "run_benchmarks", "ok"),
    ]
    assert any(c[:2] == ("review", "code_review") for c in calls)
