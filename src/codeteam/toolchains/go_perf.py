"""Go benchmarks and CPU profiles.

Test binaries are compiled in the build role (shared warm cache) and run in a fresh run
sandbox with ``-test.bench``/``-test.cpuprofile``. ``pprof`` is not shipped prebuilt with
the toolchain, so it is built once per server from the toolchain's sources (like
test2json) and reads the collected profile in a run sandbox of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.executor import Executor
from codeteam.sandbox.spec import Bind, SandboxResult, SandboxSpec
from codeteam.toolchains import common
from codeteam.toolchains.base import Benchmark, ProfileEntry

if TYPE_CHECKING:
    from codeteam.toolchains.go import GoToolchain, _Package

CPU_PROFILE = "/tmp/cpu.out"  # noqa: S108 - inside the sandbox's private /tmp
PROFILE_TEST = "codeteam_profile_test.go"
PROFILE_MAIN = (
    b'package main\n\nimport "testing"\n\nfunc TestCodeteamProfile(t *testing.T) { main() }\n'
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BENCH_LINE = re.compile(r"^(?P<name>Benchmark\S*?)(?:-\d+)?\s+(?P<n>\d+)\s+(?P<rest>.*)$")
_TOP_LINE = re.compile(
    r"^\s*(?P<flat>[\d.]+)(?P<fu>[a-zµ]*)\s+[\d.]+%\s+[\d.]+%\s+"
    r"(?P<cum>[\d.]+)(?P<cu>[a-zµ]*)\s+[\d.]+%\s+(?P<func>.+?)\s*$"
)
_MS = {"": 1.0, "ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "min": 6e4, "h": 3.6e6}


def _names(select: list[str]) -> tuple[list[str], list[str]]:
    """Select entries split into benchmark and test names (both anchored later)."""
    for name in select:
        if not _NAME.fullmatch(name):
            raise ValueError(f"select entry {name!r}: use a Go function name (BenchmarkX, TestX)")
    benches = [n for n in select if n.startswith("Benchmark")]
    return benches, [n for n in select if n not in benches]


def _anchored(names: list[str]) -> str:
    return f"^({'|'.join(names)})$"


async def _listed(
    tc: GoToolchain, executor: Executor, go: str, module: Path, target: Path
) -> list[_Package]:
    """The packages with tests under ``target``; a failing ``go list`` is a ValueError."""
    packages, listed = await tc._packages(executor, go, module, tc._pattern(module, target))
    if listed.exit_code != 0:
        detail = common.text(listed.stderr).strip().splitlines()
        raise ValueError(f"go list failed: {detail[-1] if detail else 'no output'}")
    return packages


async def benchmark(
    tc: GoToolchain,
    executor: Executor,
    project: Path,
    target: Path,
    select: list[str],
    timeout_s: float,
) -> tuple[list[Benchmark], SandboxResult]:
    """``go test -bench -benchmem -run '^$'`` per package holding tests, parsed."""
    go = tc._need_go()
    benches, others = _names(select)
    if others:
        raise ValueError(f"select for benchmarks takes Benchmark names, not {others[0]!r}")
    module = tc._module(project, target)
    packages = await _listed(tc, executor, go, module, target)
    if not packages:
        return [], SandboxResult(0, None, b"no test files\n", b"", False, False, None, 0.0)
    built = await tc._compile_tests(executor, go, module, packages)
    if built.exit_code != 0:
        return [], built
    found: list[Benchmark] = []
    outputs, duration, last = [], built.duration_ms, built
    qualify = len(packages) > 1
    for i, package in enumerate(packages):
        last = await executor.run(
            SandboxSpec(
                argv=[
                    "/work/pkg.test",
                    f"-test.bench={_anchored(benches) if benches else '.'}",
                    "-test.benchmem",
                    "-test.run=^$",
                ],
                files={"pkg.test": built.files[f"/work/out/{i}.test"]},
                executables=frozenset({"pkg.test"}),
                binds=[common.project_bind(module)],
                cwd=common.in_project(package.rel_dir),
                timeout_s=timeout_s,
            )
        )
        prefix = f"{package.rel_dir}::" if qualify else ""
        found.extend(parse_bench(common.text(last.stdout), prefix))
        outputs.append(last.stdout)
        duration += last.duration_ms
        if last.exit_code != 0:
            break
    return found, replace(last, stdout=b"".join(outputs), duration_ms=duration)


def parse_bench(output: str, prefix: str = "") -> list[Benchmark]:
    """Standard benchmark lines: ``BenchmarkX-8  1000  123 ns/op  16 B/op  1 allocs/op``."""
    found = []
    for line in output.splitlines():
        match = _BENCH_LINE.match(line.strip())
        if not match:
            continue
        fields = match["rest"].split()
        figures = {
            unit: float(value)
            for value, unit in zip(fields[::2], fields[1::2], strict=False)
            if re.fullmatch(r"[\d.eE+-]+", value)
        }
        if "ns/op" not in figures:
            continue
        found.append(
            Benchmark(
                name=prefix + match["name"],
                ns_per_op=figures["ns/op"],
                bytes_per_op=figures.get("B/op"),
                allocs_per_op=figures.get("allocs/op"),
                iterations=int(match["n"]),
            )
        )
    return found


@dataclass(frozen=True)
class _Compiled:
    """A test binary to profile (in ``built``'s files), and how to run it."""

    built: SandboxResult
    flags: list[str]
    binds: list[Bind]
    cwd: str


async def profile(
    tc: GoToolchain,
    executor: Executor,
    source: tuple[Path, Path] | str,
    select: list[str],
    timeout_s: float,
    top: int,
) -> tuple[list[ProfileEntry], SandboxResult]:
    """CPU-profile one package's tests/benchmarks (or a program run as a test), then
    ``pprof -top``. Default: every test, and every benchmark for 200 ms."""
    go = tc._need_go()
    benches, tests = _names(select)
    if isinstance(source, str):
        compiled = await _compile_program(tc, executor, go, source)
    else:
        compiled = await _compile_package(tc, executor, go, *source, benches, tests)
    built = compiled.built
    binary = built.files.get("/work/out/0.test")
    if built.exit_code != 0 or not binary:
        return [], built
    ran = await executor.run(
        SandboxSpec(
            argv=["/work/pkg.test", f"-test.cpuprofile={CPU_PROFILE}", *compiled.flags],
            files={"pkg.test": binary},
            executables=frozenset({"pkg.test"}),
            binds=compiled.binds,
            cwd=compiled.cwd,
            timeout_s=timeout_s,
            collect=[CPU_PROFILE],
        )
    )
    data = ran.files.get(CPU_PROFILE)
    if not data:
        return [], ran
    entries = await _pprof_top(tc, executor, go, data, top)
    if isinstance(source, str):
        entries = _as_main(entries)
    return entries[:top], replace(ran, duration_ms=built.duration_ms + ran.duration_ms)


async def _compile_program(tc: GoToolchain, executor: Executor, go: str, code: str) -> _Compiled:
    """A ``package main`` compiled as a test whose one test runs ``main()``."""
    files = {**tc.snippet(code), PROFILE_TEST: PROFILE_MAIN}
    argv = ["/bin/sh", "-c", "go test -c -vet=off -o /work/out/0.test .", "sh"]
    path = f"{Path(go).parent}:/usr/bin:/bin"
    built = await executor.run(
        tc._build_spec(executor, argv, files=files, collect=["/work/out/0.test"], path=path)
    )
    return _Compiled(built, ["-test.run=^TestCodeteamProfile$"], [], "/work")


async def _compile_package(
    tc: GoToolchain,
    executor: Executor,
    go: str,
    project: Path,
    target: Path,
    benches: list[str],
    tests: list[str],
) -> _Compiled:
    """The one package with tests under ``target``, compiled, with the selected tests and
    benchmarks (a ValueError unless there is exactly one such package)."""
    module = tc._module(project, target)
    packages = await _listed(tc, executor, go, module, target)
    if len(packages) != 1:
        names = ", ".join(p.rel_dir for p in packages) or "none"
        raise ValueError(
            f"profile needs one Go package with tests; {target.name or '.'} holds "
            f"{len(packages)} ({names}): give the package's directory"
        )
    built = await tc._compile_tests(executor, go, module, packages)
    flags = [
        f"-test.run={_anchored(tests) if tests else ('^$' if benches else '.')}",
        f"-test.bench={_anchored(benches) if benches else ('.' if not tests else '^$')}",
        "-test.benchtime=200ms",
    ]
    binds = [common.project_bind(module)]
    return _Compiled(built, flags, binds, common.in_project(packages[0].rel_dir))


async def _pprof_top(
    tc: GoToolchain, executor: Executor, go: str, cpu_profile: bytes, top: int
) -> list[ProfileEntry]:
    """``pprof -top`` of a collected CPU profile, in a run sandbox of its own."""
    pprof = await tc.cmd_tool(executor, go, "pprof")
    report = await executor.run(
        SandboxSpec(
            argv=[
                "/work/pprof",
                "-top",
                "-symbolize=none",
                "-unit=ms",
                f"-nodecount={top}",
                "/work/cpu.out",
            ],
            files={"pprof": pprof, "cpu.out": cpu_profile},
            executables=frozenset({"pprof"}),
            env={"HOME": "/tmp", "PPROF_TMPDIR": "/tmp"},  # noqa: S108 - the sandbox's own /tmp
            timeout_s=60.0,
        )
    )
    return parse_top(common.text(report.stdout))


def _as_main(entries: list[ProfileEntry]) -> list[ProfileEntry]:
    """A program's functions by their ``main.`` names: its test binary names package main
    by the import path (``snippet.``)."""
    return [
        replace(e, function="main." + e.function.removeprefix("snippet."))
        if e.function.startswith("snippet.")
        else e
        for e in entries
    ]


def parse_top(output: str) -> list[ProfileEntry]:
    """``pprof -top`` rows (flat, flat%, sum%, cum, cum%, function) in milliseconds."""
    entries = []
    for line in output.splitlines():
        match = _TOP_LINE.match(line)
        if not match or match["fu"] not in _MS or match["cu"] not in _MS:
            continue
        entries.append(
            ProfileEntry(
                function=match["func"].removesuffix(" (inline)"),
                file="",
                line=0,
                calls=None,
                total_ms=round(float(match["flat"]) * _MS[match["fu"]], 3),
                cumulative_ms=round(float(match["cum"]) * _MS[match["cu"]], 3),
            )
        )
    return entries
