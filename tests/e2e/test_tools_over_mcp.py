"""Every tool, both languages, through the official SDK client: stdio, Streamable HTTP and
SSE, both protocol eras. Structured results asserted field by field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ERAS, TRANSPORTS, HttpServer, connect, require_sandbox

EXPECTED_TOOLS = {
    "execute_code", "run_tests", "code_review", "list_toolchains",
    "read_file", "write_file", "list_files",
}

PY_PROJECT = {
    "calc.py": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "test_calc.py": (
        "import pytest\n\nfrom calc import add\n\n\n"
        "def test_adds():\n    assert add(2, 3) == 5\n\n\n"
        "def test_wrong():\n    assert add(2, 2) == 5, 'two and two'\n\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_skipped():\n    pass\n"
    ),
}
GO_PROJECT = {
    "go.mod": "module example.com/calc\n\ngo 1.22\n",
    "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
    "calc_test.go": (
        'package calc\n\nimport "testing"\n\n'
        "func TestAdds(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"bad\")\n\t}\n}\n\n"
        'func TestWrong(t *testing.T) {\n\tif Add(2, 2) != 5 {\n\t\tt.Fatalf("two and two: %d", Add(2, 2))\n\t}\n}\n'
    ),
}


def structured(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result
    assert result.content and result.content[0].type == "text" and result.content[0].text
    return dict(result.structured_content)


async def write_project(client: Any, folder: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        r = await client.call_tool("write_file", {"path": f"{folder}/{name}", "content": text})
        assert not r.is_error, r


# The 2024-11-05 SSE transport has only the handshake era.
COMBINATIONS = [(t, e) for t in TRANSPORTS for e in ERAS if t != "sse" or e == "legacy"]


@pytest.mark.parametrize(("transport", "era"), COMBINATIONS)
async def test_every_tool_in_both_languages(
    transport: str, era: str, workspace: Path, http_server: HttpServer
) -> None:
    require_sandbox()
    async with connect(transport, era, workspace, http_server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) >= EXPECTED_TOOLS
        for tool in tools.values():
            schema = tool.input_schema
            assert schema["type"] == "object" and schema["additionalProperties"] is False
            assert not {"oneOf", "anyOf", "allOf"} & set(schema)
            assert tool.output_schema and tool.output_schema["type"] == "object"
            assert tool.annotations is not None

        # execute_code, Python and Go
        r = await client.call_tool(
            "execute_code", {"language": "python", "code": "import sys\nprint(sys.stdin.read().upper())",
                             "stdin": "hello"})
        s = structured(r)
        assert r.is_error is False
        assert s["status"] == "ok" and s["exit_code"] == 0 and s["signal"] is None
        assert s["stdout"] == "HELLO\n" and s["stderr"] == "" and s["truncated"] is False
        assert s["duration_ms"] > 0

        r = await client.call_tool("execute_code", {
            "language": "go",
            "code": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi from go") }\n'})
        s = structured(r)
        assert s["status"] == "ok", s
        assert s["stdout"] == "hi from go\n" and s["exit_code"] == 0

        r = await client.call_tool("execute_code", {
            "language": "python", "code": "import sys\nprint('bye', file=sys.stderr)\nsys.exit(3)"})
        s = structured(r)
        assert r.is_error is True
        assert s["status"] == "error" and s["exit_code"] == 3 and s["stderr"] == "bye\n"

        # workspace tools
        await write_project(client, "pyproj", PY_PROJECT)
        await write_project(client, "goproj", GO_PROJECT)
        r = await client.call_tool("read_file", {"path": "pyproj/calc.py"})
        assert "return a + b" in str(structured(r))
        r = await client.call_tool("list_files", {"path": "pyproj"})
        assert {"calc.py", "test_calc.py"} <= {Path(str(e["path"])).name for e in structured(r)["entries"]}

        # run_tests, per-test results
        r = await client.call_tool("run_tests", {"path": "pyproj"})
        s = structured(r)
        assert r.is_error is True and s["status"] == "failed"
        assert (s["passed"], s["failed"], s["skipped"]) == (1, 1, 1)
        by_name = {t["name"].split("::")[-1].split(".")[-1]: t for t in s["tests"]}
        assert by_name["test_adds"]["outcome"] == "passed"
        assert by_name["test_wrong"]["outcome"] == "failed"
        assert "two and two" in by_name["test_wrong"]["message"]
        assert by_name["test_skipped"]["outcome"] == "skipped"

        r = await client.call_tool("run_tests", {"path": "pyproj", "select": [by_name["test_adds"]["name"]]})
        s = structured(r)
        assert s["status"] == "ok" and s["passed"] == 1 and s["failed"] == 0

        r = await client.call_tool("run_tests", {"path": "goproj"})
        s = structured(r)
        assert s["status"] == "failed" and s["passed"] == 1 and s["failed"] == 1
        failed = [t for t in s["tests"] if t["outcome"] == "failed"]
        assert failed[0]["name"].endswith("TestWrong") and "two and two: 4" in failed[0]["message"]

        r = await client.call_tool("run_tests", {"path": "goproj", "select": ["TestAdds"]})
        s = structured(r)
        assert s["status"] == "ok" and s["passed"] == 1 and s["failed"] == 0

        # code_review: real findings and an explicit clean answer
        r = await client.call_tool("code_review", {
            "language": "python", "code": "import os\n\ndef f(x):\n    return eval(x)\n"})
        s = structured(r)
        rules = {(f["tool"], f["rule"]) for f in s["findings"]}
        assert ("ruff", "F401") in rules
        assert any(tool == "bandit" for tool, _ in rules)
        f = next(f for f in s["findings"] if f["rule"] == "F401")
        assert f["line"] == 1 and f["column"] >= 1 and f["severity"] and f["message"]
        assert s["clean"] is False

        r = await client.call_tool("code_review", {
            "language": "python", "code": "def add(a: int, b: int) -> int:\n    return a + b\n"})
        s = structured(r)
        assert s["status"] == "ok" and s["clean"] is True and s["findings"] == []
        assert r.is_error is False

        r = await client.call_tool("code_review", {
            "language": "go",
            "code": 'package main\n\nimport "fmt"\n\nfunc main() {\n  fmt.Printf("%d\\n", "x")\n}\n'})
        s = structured(r)
        tools_hit = {f["tool"] for f in s["findings"]}
        assert {"gofmt", "go vet"} <= tools_hit or {"gofmt", "govet"} <= tools_hit, s

        r = await client.call_tool("list_toolchains", {})
        s = structured(r)
        langs = {t["language"]: t for t in s["languages"]}
        assert langs["python"]["available"] and langs["go"]["available"]
