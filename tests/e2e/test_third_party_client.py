"""``codeteam serve`` driven by a client nobody on the team wrote: the official TypeScript SDK.

``ts_client/client.mjs`` runs the session (stdio, Streamable HTTP or legacy SSE) and prints one
JSON line. That SDK checks every ``structuredContent`` against the tool's ``outputSchema`` itself,
so a call that comes back with an ``error`` is the server breaking its own schema (or the wire)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PYTHON, HttpServer, require_sandbox, server_env
from tests.e2e.test_tools_over_mcp import GO_PROJECT, PY_PROJECT

CLIENT_DIR = Path(__file__).parent / "ts_client"
EXPECTED_TOOLS = {
    "execute_code",
    "run_tests",
    "code_review",
    "list_toolchains",
    "read_file",
    "write_file",
    "list_files",
    "run_benchmarks",
    "profile",
    "build",
}
GO_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello from go")\n}\n'
TEXT = "héllo ✓ from a third-party client\nsecond line\n"
CALLS: list[dict[str, Any]] = [
    {
        "name": "execute_code",
        "arguments": {
            "language": "python",
            "code": "import sys\nprint(sys.stdin.read().upper())",
            "stdin": "hello",
        },
    },
    {"name": "execute_code", "arguments": {"language": "go", "code": GO_HELLO}},
    {"name": "execute_code", "arguments": {"language": "cobol", "code": "DISPLAY 'HI'."}},
    {"name": "write_file", "arguments": {"path": "ts/hello.txt", "content": TEXT}},
    {"name": "read_file", "arguments": {"path": "ts/hello.txt"}},
    {"name": "list_files", "arguments": {"path": "ts"}},
    {"name": "list_toolchains", "arguments": {}},
]


def node_client() -> str:
    """The ``node`` binary, once ``npm ci`` has installed the pinned SDK; skip (fail under CI)."""
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not installed"
    elif not (CLIENT_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        missing = f"run 'npm ci --prefix {CLIENT_DIR} --no-audit --no-fund' first"
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the TypeScript client is not installed: {missing}")
        pytest.skip(f"the TypeScript client is not installed: {missing}")
    assert node is not None
    return node


def run_client(
    node: str, transport: str, target: list[str], calls: list[dict[str, Any]]
) -> dict[str, Any]:
    """One TS SDK session; its JSON report, or a failure carrying what the client said."""
    proc = subprocess.run(
        [node, str(CLIENT_DIR / "client.mjs"), transport, json.dumps(calls), *target],
        env=server_env(),
        cwd=CLIENT_DIR,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or "fatal" in report:
        pytest.fail(
            f"TS client failed (exit {proc.returncode}): {report.get('fatal')}\n{proc.stderr}"
        )
    return report


@pytest.mark.parametrize("transport", ["stdio", "http", "sse"])
def test_typescript_sdk_client_lists_and_calls_tools(
    transport: str, workspace: Path, request: pytest.FixtureRequest
) -> None:
    require_sandbox()
    node = node_client()
    if transport == "stdio":
        target = [PYTHON, "-m", "codeteam", "serve", "--root", str(workspace)]
    else:
        http: HttpServer = request.getfixturevalue("http_server")
        target = [f"http://127.0.0.1:{http.port}/{'mcp' if transport == 'http' else 'sse'}"]

    report = run_client(node, transport, target, CALLS)

    assert report["server"]["name"] == "codeteam"
    assert report["protocolVersion"] == "2025-11-25"  # the pinned SDK's newest handshake revision
    tools = {t["name"]: t for t in report["tools"]}
    assert set(tools) >= EXPECTED_TOOLS
    assert all(t["inputSchema"] and t["outputSchema"] for t in tools.values()), tools
    if transport == "http":
        assert report["sessionTerminated"] is True

    # A call the SDK rejected carries "error" (e.g. structuredContent against outputSchema).
    results = report["calls"]
    rejected = {r["name"]: r["error"] for r in results if "error" in r}
    assert not rejected, f"the TS SDK rejected the server's answers: {rejected}"
    py, go, bad, written, read, listed, toolchains = results
    for ok in (py, go, written, read, listed, toolchains):
        assert ok["isError"] is False and ok["structuredContent"]["status"] == "ok", ok
        assert ok["text"], ok

    assert py["structuredContent"]["stdout"] == "HELLO\n"
    assert py["structuredContent"]["exit_code"] == 0
    assert go["structuredContent"]["stdout"] == "hello from go\n"
    assert go["structuredContent"]["exit_code"] == 0

    assert bad["isError"] is True
    assert bad["structuredContent"]["status"] == "rejected"
    assert "unknown language 'cobol'" in bad["structuredContent"]["error"]
    assert "unknown language 'cobol'" in bad["text"]

    assert read["structuredContent"]["content"] == TEXT
    assert (workspace / "ts" / "hello.txt").read_text(encoding="utf-8") == TEXT
    assert "hello.txt" in json.dumps(listed["structuredContent"])


def write_calls(folder: str, files: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": "write_file", "arguments": {"path": f"{folder}/{name}", "content": text}}
        for name, text in files.items()
    ]


GO_APP = {"go.mod": "module example.com/app\n\ngo 1.22\n", "main.go": GO_HELLO}
PY_BENCH = {"test_bench.py": "def test_sums(benchmark):\n    benchmark(sum, range(100))\n"}
GO_BENCH = {
    "bench_test.go": 'package calc\n\nimport "testing"\n\n'
    "func BenchmarkAdd(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\tAdd(1, 2)\n\t}\n}\n"
}
# label -> call: every tool, in its success shape and its error shapes.
SCHEMA_CALLS: dict[str, dict[str, Any]] = {
    "py_tests": {"name": "run_tests", "arguments": {"path": "pyproj"}},
    "go_tests": {"name": "run_tests", "arguments": {"path": "goproj"}},
    "missing_tests": {"name": "run_tests", "arguments": {"path": "nope"}},
    "py_review": {
        "name": "code_review",
        "arguments": {"language": "python", "code": "import os\n\ndef f(x):\n    return eval(x)\n"},
    },
    "py_review_clean": {
        "name": "code_review",
        "arguments": {
            "language": "python",
            "code": "def add(a: int, b: int) -> int:\n    return a + b\n",
        },
    },
    "go_review": {
        "name": "code_review",
        "arguments": {
            "language": "go",
            "code": 'package main\n\nimport "fmt"\n\nfunc main() {\n  fmt.Printf("%d\\n", "x")\n}\n',
        },
    },
    "review_neither": {"name": "code_review", "arguments": {}},
    "py_bench": {
        "name": "run_benchmarks",
        "arguments": {"path": "pyproj", "select": ["test_sums"]},
    },
    "go_bench": {"name": "run_benchmarks", "arguments": {"path": "goproj"}},
    "py_profile": {
        "name": "profile",
        "arguments": {"language": "python", "code": "sum(range(10**5))\n"},
    },
    "go_binary": {"name": "build", "arguments": {"path": "goapp", "target": "binary"}},
    "dockerfile": {"name": "build", "arguments": {"path": "goapp", "target": "dockerfile"}},
    "py_timeout": {
        "name": "execute_code",
        "arguments": {"language": "python", "code": "while True:\n    pass\n", "timeout_s": 1},
    },
    "go_compile_error": {
        "name": "execute_code",
        "arguments": {"language": "go", "code": "package main\n\nfunc main() { x }\n"},
    },
    "escape": {"name": "read_file", "arguments": {"path": "../etc/passwd"}},
}


def test_typescript_sdk_accepts_every_tools_structured_content(workspace: Path) -> None:
    """ajv in the TS SDK is a second, independent judge of our outputSchemas (success and error)."""
    require_sandbox()
    node = node_client()
    setup = [
        *write_calls("pyproj", {**PY_PROJECT, **PY_BENCH}),
        *write_calls("goproj", {**GO_PROJECT, **GO_BENCH}),
        *write_calls("goapp", GO_APP),
    ]
    target = [PYTHON, "-m", "codeteam", "serve", "--root", str(workspace)]
    report = run_client(node, "stdio", target, [*setup, *SCHEMA_CALLS.values()])

    results = report["calls"]
    rejected = {r["name"]: r["error"] for r in results if "error" in r}
    assert not rejected, f"the TS SDK rejected the server's answers: {rejected}"
    assert all(r["isError"] is False for r in results[: len(setup)]), results[: len(setup)]
    got = dict(zip(SCHEMA_CALLS, results[len(setup) :], strict=True))
    status = {label: r["structuredContent"]["status"] for label, r in got.items()}
    assert status == {
        "py_tests": "failed",
        "go_tests": "failed",
        "missing_tests": "rejected",
        "py_review": "ok",
        "py_review_clean": "ok",
        "go_review": "ok",
        "review_neither": "rejected",
        "py_bench": "ok",
        "go_bench": "ok",
        "py_profile": "ok",
        "go_binary": "ok",
        "dockerfile": "ok",
        "py_timeout": "timeout",
        "go_compile_error": "error",
        "escape": "rejected",
    }
    for label, r in got.items():
        assert r["isError"] is (status[label] != "ok"), (label, r)
        assert r["text"], (label, r)
    assert got["py_review"]["structuredContent"]["findings"]
    assert got["py_review_clean"]["structuredContent"]["findings"] == []
