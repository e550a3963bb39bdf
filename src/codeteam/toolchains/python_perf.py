"""Python benchmarks (pytest-benchmark) and profiles (cProfile), run in the sandbox.

The profile is turned into JSON *inside* the sandbox by a fixed driver script: pstats
files are marshal data, which is unsafe to load from untrusted code. The host only parses
that JSON, defensively.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codeteam.executor import Executor
from codeteam.sandbox.spec import SandboxResult, SandboxSpec
from codeteam.toolchains import common
from codeteam.toolchains.base import Benchmark, ProfileEntry
from codeteam.toolchains.python import pytest_targets

BENCH_JSON = "/tmp/codeteam-bench.json"  # noqa: S108 - inside the sandbox's private /tmp
PROFILE_JSON = "/tmp/codeteam-profile.json"  # noqa: S108
DRIVER = "codeteam_profile.py"

#: Runs a script or pytest under cProfile, then writes the stats as JSON to argv[1].
#: Functions of this driver and of cProfile itself are left out of the report.
PROFILE_DRIVER = """\
import cProfile, json, os, pstats, runpy, sys
out, mode, *args = sys.argv[1:]
status = 0
profiler = cProfile.Profile()
profiler.enable()
try:
    if mode == "script":
        sys.argv = [args[0]]
        sys.path.insert(0, os.path.dirname(args[0]))
        runpy.run_path(args[0], run_name="__main__")
    else:
        sys.path[0] = os.getcwd()  # as `python -m pytest` has it
        import importlib.util, pytest
        if importlib.util.find_spec("pytest_benchmark") is not None:
            # benchmark tests then run their function once, without the plugin's own timing
            # machinery (which fights cProfile for the profiler hook)
            args = ["--benchmark-disable", *args]
        status = int(pytest.main(args))
except SystemExit as exc:
    status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException:
    import traceback
    traceback.print_exc()
    status = 1
finally:
    profiler.disable()
    rows = []
    me = os.path.abspath(__file__)
    for (file, line, func), (cc, nc, tt, ct, _) in pstats.Stats(profiler).stats.items():
        if file == me or func in ("<method 'disable' of '_lsprof.Profiler' objects>",):
            continue
        rows.append([func, file, line, nc, tt * 1000, ct * 1000])
    rows.sort(key=lambda r: r[4], reverse=True)
    with open(out, "w") as handle:
        json.dump(rows[:int(os.environ["CODETEAM_PROFILE_TOP"])], handle)
sys.exit(status)
"""


def pytest_base(python: str) -> list[str]:
    """The pytest options every sandboxed run uses: no cache writes, no colour."""
    return [python, "-B", "-m", "pytest", "-p", "no:cacheprovider", "--color=no", "-q"]


def bench_spec(
    python: str, proj: Path, selection: list[str], where: str, timeout_s: float
) -> SandboxSpec:
    argv = [
        *pytest_base(python),
        f"--rootdir={common.PROJECT}",
        "--benchmark-only",
        f"--benchmark-json={BENCH_JSON}",
        "--benchmark-disable-gc",
        *pytest_targets(selection, where),
    ]
    return SandboxSpec(
        argv=argv,
        binds=[common.project_bind(proj)],
        env={"PYTHONDONTWRITEBYTECODE": "1"},
        cwd=common.PROJECT,
        timeout_s=timeout_s,
        collect=[BENCH_JSON],
        collect_cap=64 << 20,  # the JSON holds every round's timing
    )


async def profile(
    executor: Executor,
    python: str,
    source: tuple[Path, Path] | str,
    selection: list[str],
    timeout_s: float,
    top: int,
) -> tuple[list[ProfileEntry], SandboxResult]:
    """Run a script (``source`` = its code) or pytest on a project under cProfile."""
    files = {DRIVER: PROFILE_DRIVER.encode()}
    driver = [python, "-B", f"/work/{DRIVER}", PROFILE_JSON]
    env = {"PYTHONDONTWRITEBYTECODE": "1", "CODETEAM_PROFILE_TOP": str(top)}
    if isinstance(source, str):
        files["main.py"] = source.encode("utf-8")
        spec = SandboxSpec(
            argv=[*driver, "script", "/work/main.py"],
            files=files,
            env=env,
            timeout_s=timeout_s,
            collect=[PROFILE_JSON],
        )
        project = "/work"
    else:
        proj, target = source
        where = common.inside(proj, target)
        args = ["-p", "no:cacheprovider", "--color=no", "-q", f"--rootdir={common.PROJECT}"]
        spec = SandboxSpec(
            argv=[*driver, "pytest", *args, *pytest_targets(selection, where)],
            files=files,
            binds=[common.project_bind(proj)],
            env=env,
            cwd=common.PROJECT,
            timeout_s=timeout_s,
            collect=[PROFILE_JSON],
        )
        project = common.PROJECT
    result = await executor.run(spec)
    report = result.files.get(PROFILE_JSON)
    return (parse_profile(report, project, top) if report else []), result


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def parse_benchmarks(report: bytes) -> list[Benchmark]:
    """pytest-benchmark's ``--benchmark-json`` (seconds) as per-benchmark ns figures."""
    try:
        data = json.loads(report)
    except ValueError:
        return []
    items = data.get("benchmarks") if isinstance(data, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("stats"), dict):
            continue
        stats = item["stats"]

        def ns(key: str, stats: dict[str, Any] = stats) -> float | None:
            value = _num(stats.get(key))
            return _round(value * 1e9 if value is not None else None)

        rounds, iterations = _num(stats.get("rounds")), _num(stats.get("iterations"))
        found.append(
            Benchmark(
                name=common.relative(str(item.get("fullname") or item.get("name", ""))),
                ns_per_op=ns("mean"),
                iterations=int(iterations) if iterations is not None else None,
                rounds=int(rounds) if rounds is not None else None,
                min_ns=ns("min"),
                max_ns=ns("max"),
                stddev_ns=ns("stddev"),
            )
        )
    return found


def parse_profile(report: bytes, project: str, top: int) -> list[ProfileEntry]:
    """The driver's JSON rows; anything malformed is skipped (the code wrote into /tmp too)."""
    try:
        rows = json.loads(report)
    except ValueError:
        return []
    entries = []
    for row in rows[:top] if isinstance(rows, list) else []:
        if not (isinstance(row, list) and len(row) == 6):
            continue
        func, file, line, calls, total, cumulative = row
        numbers = [_num(v) for v in (line, calls, total, cumulative)]
        if not isinstance(func, str) or not isinstance(file, str) or None in numbers:
            continue
        n_line, n_calls, n_total, n_cum = (n or 0.0 for n in numbers)
        entries.append(
            ProfileEntry(
                function=func,
                file=common.relative(file, project),
                line=int(n_line),
                calls=int(n_calls),
                total_ms=round(n_total, 3),
                cumulative_ms=round(n_cum, 3),
            )
        )
    return entries
