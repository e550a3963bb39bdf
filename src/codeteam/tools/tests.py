"""``run_tests``: run a project's tests sandboxed on a read-only view of it, and report
every test's outcome as parsed from the runner's machine-readable output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from codeteam.toolchains.base import TestCase
from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.project import SnapshotNote, snapshot_lines

Status = Literal["ok", "failed", "error", "no_tests", "timeout", "killed"]
_SELECT = re.compile(r"[A-Za-z0-9_./:\[\]\-]+")


@dataclass
class TestRunResult:
    __test__ = False  # not a pytest class

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
    tests: list[TestCase] = field(default_factory=list)
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
        if self.status not in ("ok", "failed") and self.output:
            lines.append(f"--- output\n{self.output.rstrip()}")
        return "\n".join(lines)


def check_select(select: list[str] | None) -> list[str]:
    for entry in select or []:
        if (
            not entry
            or not entry.isascii()
            or entry.startswith("-")
            or not _SELECT.fullmatch(entry)
        ):
            raise ToolError(
                f"select entry {entry!r} is not a test id: use ASCII names like test_add, "
                "tests/test_a.py::test_add or TestAdd, never starting with '-'"
            )
    return list(select or [])


def _status(
    cases: list[TestCase],
    exit_code: int | None,
    timed_out: bool,
    limit: str | None,
    collected_nothing: bool,
) -> Status:
    if timed_out or limit == "wall_clock":
        return "timeout"
    if limit is not None:
        return "killed"
    if any(c.outcome == "failed" for c in cases):
        return "failed"
    if any(c.outcome == "error" for c in cases):
        return "error"
    if not cases:
        return "no_tests" if exit_code == 0 or collected_nothing else "error"
    if all(c.outcome == "skipped" for c in cases):
        return "no_tests"
    return "ok" if exit_code == 0 else "error"


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
) -> TestRunResult:
    from codeteam.tools.progress import ticking
    from codeteam.tools.project import (
        output,
        resolve_project,
        run_timeout,
        sandbox_view,
        translated,
    )

    chosen = check_select(select)
    timeout = run_timeout(ctx, timeout_s)
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
    return TestRunResult(
        status=_status(
            cases,
            result.exit_code,
            result.timed_out,
            result.limit,
            project.toolchain.collected_nothing(result.exit_code),
        ),
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
