"""``run_tests``: run a project's tests sandboxed on a read-only view of it, and report
every test's outcome as parsed from the runner's machine-readable output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from codeteam.sandbox.spec import SandboxResult
from codeteam.toolchains.base import CaseResult
from codeteam.tools.base import Doc, ToolContext
from codeteam.tools.checks import check_select, check_timeout
from codeteam.tools.outcome import stopped_by
from codeteam.tools.project import SnapshotNote, output_lines, snapshot_lines

Status = Literal["ok", "failed", "error", "no_tests", "timeout", "killed"]


@dataclass
class RunTestsResult:
    status: Annotated[
        Status,
        Doc(
            "ok: every selected test passed; failed: a test failed; error: the tests could not "
            "run (compile/collection error, see output); no_tests: nothing matched; "
            "timeout/killed: a limit stopped the run"
        ),
    ]
    language: str
    path: str
    passed: int
    failed: int
    errors: int
    skipped: int
    tests: list[CaseResult] = field(default_factory=list)
    output: Annotated[str, Doc("the runner's own output, capped (head and tail kept)")] = ""
    truncated: bool = False
    duration_ms: float = 0.0
    snapshot: SnapshotNote = None

    def render(self) -> str:
        head = (
            f"{self.language} tests in {self.path}: {self.status} — {self.passed} passed, "
            f"{self.failed} failed, {self.errors} errors, {self.skipped} skipped "
            f"({self.duration_ms:.0f} ms)"
        )
        lines = [head, *snapshot_lines(self.snapshot)]
        for case in self.tests:
            lines.append(f"  {case.outcome.upper():7} {case.name} ({case.duration_ms:.0f} ms)")
            if case.message and case.outcome in ("failed", "error"):
                lines.extend(f"      {line}" for line in case.message.splitlines()[-12:])
        if self.status not in ("ok", "failed"):
            lines += output_lines(self.output)
        return "\n".join(lines)


def _status(cases: list[CaseResult], result: SandboxResult, collected_nothing: bool) -> Status:
    stopped = stopped_by(result)
    if stopped is not None:
        return stopped
    if any(c.outcome == "failed" for c in cases):
        return "failed"
    if any(c.outcome == "error" for c in cases):
        return "error"
    if not cases:
        return "no_tests" if result.exit_code == 0 or collected_nothing else "error"
    if all(c.outcome == "skipped" for c in cases):
        return "no_tests"
    return "ok" if result.exit_code == 0 else "error"


async def run_tests(
    ctx: ToolContext,
    path: Annotated[
        str, Doc("a test file or directory inside the workspace (relative to the workspace root)")
    ],
    language: Annotated[
        str | None, Doc("python or go; detected from the path when omitted")
    ] = None,
    select: Annotated[
        list[str] | None,
        Doc(
            "only these tests: pytest node ids (tests/test_a.py::test_x) or test names "
            "(test_x; Go: TestX or pkgdir::TestX)"
        ),
    ] = None,
    timeout_s: Annotated[
        float | None, Doc("wall-clock limit for running the tests, seconds")
    ] = None,
    race: Annotated[
        bool,
        Doc(
            "Go only: build with the data-race detector (-race; a cold build takes ~40 s, "
            "races are reported as failures)"
        ),
    ] = False,
) -> RunTestsResult:
    from codeteam.tools.progress import ticking
    from codeteam.tools.project import (
        DEFAULT_TIMEOUT_S,
        output,
        resolve_project,
        sandbox_view,
        translated,
    )

    chosen = check_select(select)
    timeout = check_timeout(ctx.settings, timeout_s, DEFAULT_TIMEOUT_S)
    project = resolve_project(ctx, path, language)
    with translated():
        async with (
            ticking(ctx, f"running {project.language} tests in {path}"),
            sandbox_view(ctx, project) as (root, target),
        ):
            cases, result = await project.toolchain.test(
                project.executor, root, target, chosen, timeout, race=race
            )
    count = {
        o: sum(c.outcome == o for c in cases) for o in ("passed", "failed", "error", "skipped")
    }
    return RunTestsResult(
        status=_status(cases, result, project.toolchain.collected_nothing(result.exit_code)),
        language=project.language,
        path=project.display,
        passed=count["passed"],
        failed=count["failed"],
        errors=count["error"],
        skipped=count["skipped"],
        tests=cases,
        output=output(result),
        truncated=result.truncated,
        duration_ms=round(result.duration_ms, 1),
        snapshot=project.snapshot,
    )
