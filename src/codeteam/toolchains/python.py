"""Python: run a script, pytest, ruff and bandit, all inside the sandbox.

User code runs with the runtime's interpreter (``<runtime>/bin/python``, Debian's python3
in a world-readable venv holding pytest, ruff and bandit), else ``/usr/bin/python3``: the
sandbox's unprivileged uid cannot read an interpreter under /root (pyenv).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from codeteam.executor import Executor
from codeteam.sandbox.spec import SandboxResult, SandboxSpec
from codeteam.toolchains import common
from codeteam.toolchains.base import (
    Benchmark,
    Built,
    CaseResult,
    Finding,
    ProfileEntry,
    ToolchainInfo,
    ToolchainMissing,
    ToolInfo,
)
from codeteam.toolchains.locate import dist_version, find_program

SYSTEM_PYTHON = Path("/usr/bin/python3")
JUNIT = "/tmp/codeteam-junit.xml"  # noqa: S108 - inside the sandbox's private /tmp
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RUNTIME_HINT = "run scripts/install.sh (creates the runtime at {runtime})"


class PythonToolchain:
    language = "python"
    file_suffixes = (".py",)
    project_markers = ("pyproject.toml", "setup.cfg", "setup.py", "pytest.ini", "tox.ini")

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------------ discovery

    def _python(self) -> str | None:
        venv = self.runtime / "bin" / "python"
        if venv.exists():
            return str(venv)
        return str(SYSTEM_PYTHON) if SYSTEM_PYTHON.exists() else None

    def _need_python(self) -> str:
        python = self._python()
        if python is None:
            raise ToolchainMissing(
                "python: no interpreter the sandbox can run (neither "
                f"{self.runtime}/bin/python nor {SYSTEM_PYTHON}); "
                + _RUNTIME_HINT.format(runtime=self.runtime)
            )
        return python

    def _python_version(self) -> str | None:
        """From the runtime's ``pyvenv.cfg``, else the system interpreter's file name
        (``python3.11``): no interpreter is started to ask."""
        cfg = self.runtime / "pyvenv.cfg"
        if cfg.is_file():
            for line in cfg.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() in ("version", "version_info"):
                    return value.strip()
        if self._python() != str(SYSTEM_PYTHON):
            return None
        match = re.fullmatch(r"python(\d+\.\d+)", Path(os.path.realpath(SYSTEM_PYTHON)).name)
        return match.group(1) if match else None

    def detect(self) -> ToolchainInfo:
        python = self._python()
        hint = _RUNTIME_HINT.format(runtime=self.runtime)
        tools = [ToolInfo("python", self._python_version() if python else None, python, hint)]
        pytest_version = dist_version(self.runtime, "pytest")
        tools.append(
            ToolInfo(
                "pytest",
                pytest_version,
                python if pytest_version else None,
                f"{hint}, or pip install pytest into it",
            )
        )
        for name in ("ruff", "bandit"):
            path = find_program(self.runtime, name)
            version = dist_version(self.runtime, name) or ("unknown" if path else None)
            tools.append(ToolInfo(name, version, path, f"{hint}, or pip install {name} into it"))
        return ToolchainInfo(self.language, python is not None, tools)

    def snippet(self, code: str) -> dict[str, bytes]:
        return {"main.py": code.encode("utf-8")}

    # ------------------------------------------------------------------ execute

    async def execute(
        self, executor: Executor, code: str, stdin: bytes, timeout_s: float
    ) -> SandboxResult:
        from codeteam.toolchains.python_prestart import prestart

        python = self._need_python()
        # -I: no user site, no PYTHON* variables, no cwd on sys.path; -B: no .pyc writes.
        spec = SandboxSpec(
            argv=[python, "-I", "-B", "/work/main.py"],
            files=self.snippet(code),
            stdin=stdin,
            timeout_s=timeout_s,
        )
        return await executor.run(spec, prestart(spec.argv))

    # ------------------------------------------------------------------ test

    def _selection(self, select: list[str]) -> list[str]:
        """Node ids (``path::name``) become arguments; bare names a ``-k`` expression."""
        node_ids = [s for s in select if "::" in s or s.endswith(".py")]
        names = [s for s in select if s not in node_ids]
        if node_ids and names:
            raise ValueError(
                "select mixes pytest node ids (path::name) and bare test names; use one kind"
            )
        for name in names:
            if not _BARE_NAME.fullmatch(name):
                raise ValueError(
                    f"select entry {name!r} is neither a node id (path/test_x.py::test_y) "
                    "nor a plain test name"
                )
        for node in node_ids:
            path = node.split("::", 1)[0]
            if path.startswith("/") or ".." in Path(path).parts:
                raise ValueError(
                    f"select entry {node!r}: the file part must be relative to the project, "
                    "without '..'"
                )
        if names:
            return ["-k", " or ".join(names)]
        return ["--", *node_ids]

    def _need_pytest(self, plugin: str = "pytest") -> str:
        python = self._need_python()
        if dist_version(self.runtime, plugin) is None and python != str(SYSTEM_PYTHON):
            raise ToolchainMissing(
                f"{plugin} is not installed in {self.runtime}; pip install {plugin} into it"
            )
        return python

    async def test(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        select: list[str],
        timeout_s: float,
        race: bool = False,
    ) -> tuple[list[CaseResult], SandboxResult]:
        if race:
            raise ValueError("race detection is for Go tests only; drop race for Python")
        python = self._need_pytest()
        proj = common.project_dir(project, target, self.project_markers)
        selection = self._selection(select)
        where = common.inside(proj, target)
        argv = [
            python,
            "-B",
            "-s",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--rootdir={common.PROJECT}",
            f"--junitxml={JUNIT}",
            "-o",
            "junit_family=xunit1",
            "--color=no",
            "--tb=short",
            "-q",
            "-rfE",
        ]
        argv += pytest_targets(selection, where)
        spec = SandboxSpec(
            argv=argv,
            binds=[common.project_bind(proj)],
            env={"PYTHONDONTWRITEBYTECODE": "1"},
            cwd=common.PROJECT,
            timeout_s=timeout_s,
            collect=[JUNIT],
        )
        result = await executor.run(spec)
        report = result.files.get(JUNIT)
        cases = parse_junit(report, proj) if report else []
        return cases, result

    def collected_nothing(self, exit_code: int | None) -> bool:
        return exit_code == 5  # pytest's "no tests collected"

    # ------------------------------------------------------------------ review

    def linters(self, strict: bool) -> list[str]:
        return ["ruff", "bandit", *(["mypy"] if strict else [])]

    async def review(
        self,
        executor: Executor,
        project: Path,
        target: Path,
        timeout_s: float,
        strict: bool = False,
    ) -> tuple[list[Finding], list[str]]:
        proj = common.project_dir(project, target, self.project_markers)
        where = common.inside(proj, target)
        ruff = find_program(self.runtime, "ruff")
        bandit = find_program(self.runtime, "bandit")
        linters = [("ruff", ruff), ("bandit", bandit)]
        mypy = None
        if strict:
            python = self._python()
            mypy = python if python and dist_version(self.runtime, "mypy") else None
            linters.append(("mypy", mypy))
        skipped = [name for name, path in linters if path is None]
        jobs = []
        if ruff:
            jobs.append(self._ruff(executor, ruff, proj, where, timeout_s))
        if bandit:
            jobs.append(self._bandit(executor, bandit, proj, where, timeout_s))
        if mypy:
            jobs.append(self._mypy(executor, mypy, proj, where, timeout_s))
        findings: list[Finding] = []
        for found in await asyncio.gather(*jobs):
            findings.extend(found)
        findings.sort(key=lambda f: (f.file, f.line, f.column, f.tool, f.rule))
        return findings, skipped

    def _lint_spec(self, argv: list[str], proj: Path, timeout_s: float) -> SandboxSpec:
        return SandboxSpec(
            argv=argv, binds=[common.project_bind(proj)], cwd=common.PROJECT, timeout_s=timeout_s
        )

    async def _ruff(
        self, executor: Executor, ruff: str, proj: Path, where: str, timeout_s: float
    ) -> list[Finding]:
        argv = [
            ruff,
            "check",
            "--output-format=json",
            "--no-cache",
            "--exit-zero",
            "--extend-select=B",
            "--",
            where,
        ]
        result = await executor.run(self._lint_spec(argv, proj, timeout_s))
        return parse_ruff(result)

    async def _bandit(
        self, executor: Executor, bandit: str, proj: Path, where: str, timeout_s: float
    ) -> list[Finding]:
        # B101 (assert) fires on every pytest test: noise, not a finding.
        argv = [bandit, "-f", "json", "-q", "-s", "B101", "-r", where]
        result = await executor.run(self._lint_spec(argv, proj, timeout_s))
        return parse_bandit(result)

    async def _mypy(
        self, executor: Executor, python: str, proj: Path, where: str, timeout_s: float
    ) -> list[Finding]:
        # No cache (the project is read-only), one line per error with its column.
        argv = [
            python,
            "-B",
            "-m",
            "mypy",
            "--strict",
            "--cache-dir=/dev/null",
            "--show-column-numbers",
            "--show-error-codes",
            "--no-color-output",
            "--no-error-summary",
            "--ignore-missing-imports",
            "--",
            where,
        ]
        result = await executor.run(self._lint_spec(argv, proj, timeout_s))
        return parse_mypy(result)

    # ------------------------------------------------------------------ perf, build

    async def benchmark(
        self, executor: Executor, project: Path, target: Path, select: list[str], timeout_s: float
    ) -> tuple[list[Benchmark], SandboxResult]:
        from codeteam.toolchains import python_perf

        python = self._need_pytest("pytest-benchmark")
        proj = common.project_dir(project, target, self.project_markers)
        spec = python_perf.bench_spec(
            python, proj, self._selection(select), common.inside(proj, target), timeout_s
        )
        result = await executor.run(spec)
        report = result.files.get(python_perf.BENCH_JSON)
        return (python_perf.parse_benchmarks(report) if report else []), result

    async def profile(
        self,
        executor: Executor,
        source: tuple[Path, Path] | str,
        select: list[str],
        timeout_s: float,
        top: int,
    ) -> tuple[list[ProfileEntry], SandboxResult]:
        from codeteam.toolchains import python_perf

        if isinstance(source, str):
            python = self._need_python()
        else:
            python = self._need_pytest()
            project, target = source
            source = (common.project_dir(project, target, self.project_markers), target)
        return await python_perf.profile(
            executor, python, source, self._selection(select), timeout_s, top
        )

    async def build(self, executor: Executor, project: Path, target: Path, kind: str) -> Built:
        from codeteam.toolchains import python_build

        if kind != "wheel":
            raise ValueError(f"a Python project builds a wheel, not a {kind}; use target=wheel")
        proj = common.project_dir(project, target, self.project_markers)
        if proj != target:
            raise ValueError(
                "no pyproject.toml, setup.cfg or setup.py in the given directory; "
                "point path at the project directory"
            )
        if dist_version(self.runtime, "wheel") is None and python_build.needs_wheel(self.runtime):
            raise ToolchainMissing(
                f"the wheel package is not installed in {self.runtime}; pip install wheel "
                "into it (scripts/install.sh does)"
            )
        return await python_build.wheel(executor, self._need_python(), proj)

    def dockerfile(self, project: Path) -> str:
        from codeteam.toolchains import python_build

        return python_build.dockerfile(project, self._python_version() or "3.11")


# ---------------------------------------------------------------------- parsers

_MYPY_LINE = re.compile(
    r"^(?P<file>[^:\n]+\.pyi?):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?P<sev>error|note|warning):"
    r"\s*(?P<msg>.*?)(?:\s+\[(?P<code>[a-z0-9-]+)\])?$"
)


def pytest_targets(selection: list[str], where: str) -> list[str]:
    """pytest arguments for a selection from ``PythonToolchain._selection``: a ``-k``
    expression on ``where``, the node ids themselves, or all of ``where``."""
    if selection[0] == "-k":
        return [*selection, "--", where]
    if len(selection) > 1:
        return selection
    return ["--", where]


def parse_mypy(result: SandboxResult) -> list[Finding]:
    """mypy's ``file:line:col: error: message  [code]`` lines (notes are dropped)."""
    findings = []
    for line in common.text(result.stdout).splitlines():
        match = _MYPY_LINE.match(line.strip())
        if not match or match["sev"] == "note":
            continue
        findings.append(
            Finding(
                "mypy",
                match["code"] or "error",
                "error" if match["sev"] == "error" else "warning",
                common.relative(match["file"]),
                int(match["line"]),
                int(match["col"] or 0),
                match["msg"],
            )
        )
    if not findings and result.exit_code not in (0, 1):
        return [_lint_failure("mypy", result)]
    return findings


def _lint_failure(tool: str, result: SandboxResult) -> Finding:
    what = "timed out" if result.timed_out else f"exited {result.exit_code}"
    detail = common.text(result.stderr or result.stdout).strip().splitlines()
    return Finding(
        tool,
        "tool-failure",
        "error",
        "",
        0,
        0,
        f"{tool} {what}: {detail[-1] if detail else 'no output'}",
    )


def parse_ruff(result: SandboxResult) -> list[Finding]:
    try:
        items = json.loads(result.stdout or b"[]")
    except ValueError:
        return [_lint_failure("ruff", result)]
    if result.exit_code not in (0, None) and not items:
        return [_lint_failure("ruff", result)]
    findings = []
    for item in items:
        code = item.get("code")
        location = item.get("location") or {}
        findings.append(
            Finding(
                tool="ruff",
                rule=code or "syntax-error",
                severity="error" if code is None or code.startswith(("E9", "F8")) else "warning",
                file=common.relative(item.get("filename", "")),
                line=int(location.get("row", 0)),
                column=int(location.get("column", 0)),
                message=item.get("message", ""),
            )
        )
    return findings


_BANDIT_SEVERITY = {"HIGH": "error", "MEDIUM": "warning", "LOW": "info"}


def parse_bandit(result: SandboxResult) -> list[Finding]:
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return [_lint_failure("bandit", result)]
    findings = [
        Finding(
            tool="bandit",
            rule=f"{item.get('test_id', '')} {item.get('test_name', '')}".strip(),
            severity=_BANDIT_SEVERITY.get(item.get("issue_severity", ""), "warning"),
            file=common.relative(item.get("filename", "")),
            line=int(item.get("line_number", 0)),
            column=int(item.get("col_offset", 0)) + 1,
            message=item.get("issue_text", ""),
        )
        for item in report.get("results", [])
    ]
    for error in report.get("errors", []):
        findings.append(
            Finding(
                "bandit",
                "parse-error",
                "error",
                common.relative(error.get("filename", "")),
                0,
                0,
                error.get("reason", "could not parse"),
            )
        )
    return findings


def _node_id(classname: str, name: str, project: Path) -> str:
    """JUnit's dotted ``classname`` back to a pytest node id (``tests/test_a.py::Cls::name``)
    by finding the module file in the project, so the id can be passed back as ``select``."""
    parts = classname.split(".") if classname else []
    for cut in range(len(parts), 0, -1):
        module = Path(*parts[:cut]).with_suffix(".py")
        if (project / module).is_file():
            return "::".join([module.as_posix(), *parts[cut:], name])
    return "::".join([*parts, name]) if parts else name


def parse_junit(report: bytes, project: Path) -> list[CaseResult]:
    try:
        root = ET.fromstring(report)  # noqa: S314 - written by pytest in our sandbox
    except ET.ParseError:
        return []
    cases = []
    for case in root.iter("testcase"):
        outcome, message = "passed", None
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                body = (child.text or "").strip()
                message = child.get("message") or body
                if child.tag != "skipped" and body:
                    message = body
                break
        cases.append(
            CaseResult(
                name=_node_id(case.get("classname", ""), case.get("name", ""), project),
                outcome=outcome,
                duration_ms=round(float(case.get("time", "0") or 0) * 1000, 3),
                message=common.clip(message) if message else None,
            )
        )
    return cases
