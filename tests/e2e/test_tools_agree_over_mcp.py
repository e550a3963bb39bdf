"""The tools agree, through the official SDK client against a real ``codeteam serve`` over
stdio: the same bad argument gets the same one-line error from every tool that takes it
(``tools/checks.py``), and a run the wall clock stops reads ``timeout`` from every tool that
runs one (``tools/outcome.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import connect, require_sandbox

MAX_CODE = 1000
MAX_TIMEOUT = 60
SERVER_ARGS = ("--max-code-bytes", str(MAX_CODE), "--max-timeout", str(MAX_TIMEOUT))

#: The tools that take a snippet (``code`` + ``language``), and those that take a timeout,
#: each with the other arguments a good call would carry.
SNIPPET_TOOLS = {
    "execute_code": {"language": "python"},
    "profile": {"language": "python"},
    "code_review": {"language": "python"},
}
TIMEOUT_TOOLS = {
    "execute_code": {"language": "python", "code": "print(1)"},
    "run_tests": {"path": "proj"},
    "run_benchmarks": {"path": "proj"},
    "profile": {"path": "proj"},
}
SELECT_TOOLS = {
    "run_tests": {"path": "proj"},
    "run_benchmarks": {"path": "proj"},
    "profile": {"path": "proj"},
}
SOURCE_TOOLS = ("profile", "code_review")

SLOW_TESTS = """import time


def test_slow():
    time.sleep(60)


def test_slow_bench(benchmark):
    benchmark(time.sleep, 60)
"""
SLOW_PROGRAM = "import time\ntime.sleep(60)\n"


async def error_of(client: Any, tool: str, arguments: dict[str, Any]) -> str:
    """The one-line message of a rejected call, after checking the result's shape."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error is True, (tool, result)
    structured = dict(result.structured_content or {})
    assert structured["status"] == "rejected", (tool, structured)
    message = str(structured["error"])
    assert message and "\n" not in message, (tool, message)
    assert result.content[0].text == f"error: {message}"
    return message


async def same_error(client: Any, tools: dict[str, dict[str, Any]], **bad: Any) -> str:
    messages = {tool: await error_of(client, tool, {**good, **bad}) for tool, good in tools.items()}
    assert len(set(messages.values())) == 1, messages
    return next(iter(messages.values()))


@pytest.fixture
def project(workspace: Path) -> Path:
    folder = workspace / "proj"
    folder.mkdir(mode=0o755)
    (folder / "test_a.py").write_text(SLOW_TESTS)
    (folder / "test_a.py").chmod(0o644)
    return folder


async def test_a_bad_snippet_gets_one_error_from_every_tool(
    workspace: Path, project: Path
) -> None:
    async with connect("stdio", "auto", workspace, server_args=SERVER_ARGS) as client:
        for blank in ("", "  \n\t"):
            message = await same_error(client, SNIPPET_TOOLS, code=blank)
            assert message.startswith("code is empty"), message
        message = await same_error(client, SNIPPET_TOOLS, code="#" * (MAX_CODE + 1))
        assert f"{MAX_CODE + 1} bytes, over the {MAX_CODE}-byte limit" in message

        sources = {tool: {} for tool in SOURCE_TOOLS}
        message = await same_error(client, sources, code="print(1)")
        assert message == "language is required with code: python or go"
        assert await same_error(client, sources) == "give exactly one of code or path"
        message = await same_error(client, sources, code="print(1)", path="proj")
        assert message == "give exactly one of code or path"


async def test_a_bad_timeout_or_selection_gets_one_error_from_every_tool(
    workspace: Path, project: Path
) -> None:
    async with connect("stdio", "auto", workspace, server_args=SERVER_ARGS) as client:
        for timeout in (0, -1, MAX_TIMEOUT + 1):
            message = await same_error(client, TIMEOUT_TOOLS, timeout_s=timeout)
            assert message == f"timeout_s must be more than 0 and at most {MAX_TIMEOUT} seconds"
        for entry in ("-k", "a b"):
            message = await same_error(client, SELECT_TOOLS, select=[entry])
            assert message.startswith(f"select entry {entry!r} is not a test id"), message


async def test_a_run_the_wall_clock_stops_reads_timeout_from_every_tool(
    workspace: Path, project: Path
) -> None:
    require_sandbox()
    calls = {
        "execute_code": {"language": "python", "code": SLOW_PROGRAM},
        "profile": {"language": "python", "code": SLOW_PROGRAM},
        "run_tests": {"path": "proj", "select": ["test_slow"]},
        "run_benchmarks": {"path": "proj"},
    }
    async with connect("stdio", "auto", workspace) as client:
        for tool, arguments in calls.items():
            result = await client.call_tool(tool, {**arguments, "timeout_s": 3})
            structured = dict(result.structured_content or {})
            assert result.is_error is True, (tool, structured)
            assert structured["status"] == "timeout", (tool, structured)
