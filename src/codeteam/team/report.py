"""The parts of a run's report that come from the records, not from the lead's words."""

from __future__ import annotations

from codeteam.team.scheduler import TaskOutcome
from codeteam.team.workspace import Conflict


def failure_note(tasks: dict[str, TaskOutcome]) -> str:
    bad = {k: v for k, v in tasks.items() if not v.ok}
    if not bad:
        return ""
    return f"{len(bad)} of {len(tasks)} task(s) did not succeed: " + "; ".join(
        f"{k} {v.status} ({v.error})" for k, v in bad.items()
    )


def appendix(
    status: str,
    error: str | None,
    outcomes: dict[str, TaskOutcome],
    limits: list[str],
    benchmarks: list[tuple[str, dict[str, float]]],
    conflicts: list[Conflict],
) -> str:
    """What the report must say whatever the lead wrote: limits, conflicts, measured
    benchmarks, and the task outcomes when the lead could not write a report at all."""
    parts: list[str] = []
    if status in ("stopped", "partial") or (status == "failed" and outcomes):
        lines = [
            f"- {k}: {v.status}" + (f" ({v.error})" if v.error else "") for k, v in outcomes.items()
        ]
        said = {"partial": "The run did not fully succeed", "failed": "The run failed"}
        parts.append(
            f"{said.get(status, 'The run was ' + status)}: {error}\nTasks:\n" + "\n".join(lines)
        )
    if limits:
        parts.append("Limits that fired:\n" + "\n".join(f"- {x}" for x in limits))
    if benchmarks:
        parts.append(benchmark_table(benchmarks))
    if conflicts:
        parts.append(
            "Merge conflicts (both versions kept):\n"
            + "\n".join(f"- {c.path}: {c.detail}" for c in conflicts)
        )
    return "\n\n".join(parts)


def benchmark_table(runs: list[tuple[str, dict[str, float]]]) -> str:
    """Measured figures, first run_benchmarks of the run against the last: the before and
    after of an optimisation, from the tool's results (not from the model's words)."""
    (first_task, before), (last_task, after) = runs[0], runs[-1]
    if len(runs) == 1:
        rows = [f"- {name}: {ns:,.0f} ns/op" for name, ns in before.items()]
        return f"Benchmarks (measured once, by {first_task}):\n" + "\n".join(rows)
    rows = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b is not None and a is not None and a > 0:
            rows.append(f"- {name}: {b:,.0f} -> {a:,.0f} ns/op ({b / a:.1f}x)")
        else:
            rows.append(f"- {name}: {b or '-'} -> {a or '-'} ns/op")
    return f"Benchmarks, before ({first_task}) -> after ({last_task}):\n" + "\n".join(rows)
