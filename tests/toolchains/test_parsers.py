"""The toolchains' parsers of their runners' machine-readable output, on outputs recorded
from the real tools (``recorded/``: ruff, bandit and mypy --strict on a small module,
pytest's JUnit XML, ``go vet -json`` and ``go test -json``; sandbox paths as the tools print
them inside the sandbox). No sandbox, root or installed linter needed."""

from __future__ import annotations

import json
from pathlib import Path

from codeteam.sandbox.spec import SandboxResult
from codeteam.toolchains import go
from codeteam.toolchains.base import CaseResult, Finding
from codeteam.toolchains.go import parse_test2json, parse_vet
from codeteam.toolchains.python import parse_bandit, parse_junit, parse_mypy, parse_ruff

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def ran(stdout: bytes, exit_code: int = 0, stderr: bytes = b"") -> SandboxResult:
    return SandboxResult(exit_code, None, stdout, stderr, False, False, None, 1.0)


def test_ruff_json_becomes_findings_syntax_and_undefined_names_as_errors() -> None:
    findings = parse_ruff(ran(recorded("ruff.json")))
    assert [(f.rule, f.severity, f.file, f.line, f.column) for f in findings] == [
        ("F401", "warning", "app.py", 1, 8),
        ("F841", "error", "app.py", 6, 5),
        ("PLR0133", "warning", "test_app.py", 11, 12),
    ]
    assert findings[0] == Finding(
        "ruff", "F401", "warning", "app.py", 1, 8, "`os` imported but unused"
    )


def test_ruff_that_failed_without_output_is_one_tool_failure() -> None:
    [failure] = parse_ruff(ran(b"", exit_code=2, stderr=b"ruff: error: unknown option\n"))
    assert (failure.rule, failure.severity) == ("tool-failure", "error")
    assert failure.message == "ruff exited 2: ruff: error: unknown option"
    [garbled] = parse_ruff(ran(b"not json", exit_code=0))
    assert garbled.rule == "tool-failure"


def test_bandit_json_maps_severity_and_makes_columns_one_based() -> None:
    findings = parse_bandit(ran(recorded("bandit.json"), exit_code=1))
    assert [(f.rule, f.severity, f.file, f.line, f.column) for f in findings] == [
        ("B404 blacklist", "info", "app.py", 2, 1),
        ("B602 subprocess_popen_with_shell_equals_true", "error", "app.py", 7, 12),
    ]
    assert findings[1].message == "subprocess call with shell=True identified, security issue."


def test_bandit_parse_errors_are_findings() -> None:
    report = {"results": [], "errors": [{"filename": "/work/project/bad.py", "reason": "syntax"}]}
    [error] = parse_bandit(ran(json.dumps(report).encode(), exit_code=1))
    assert (error.rule, error.file, error.message) == ("parse-error", "bad.py", "syntax")


def test_mypy_lines_become_findings_and_notes_are_dropped() -> None:
    findings = parse_mypy(ran(recorded("mypy.txt"), exit_code=1))
    assert [(f.file, f.line, f.column, f.rule) for f in findings] == [
        ("app.py", 5, 1, "no-untyped-def"),
        ("app.py", 11, 20, "operator"),
        ("test_app.py", 6, 1, "no-untyped-def"),
        ("test_app.py", 10, 1, "no-untyped-def"),
        ("test_app.py", 11, 12, "comparison-overlap"),
        ("test_app.py", 15, 1, "no-untyped-def"),
        ("test_app.py", 20, 5, "no-untyped-def"),
    ]
    assert {f.severity for f in findings} == {"error"}
    assert findings[1].message == 'Unsupported operand types for + ("int" and "str")'


def test_mypy_that_crashed_is_one_tool_failure() -> None:
    [failure] = parse_mypy(ran(b"", exit_code=2, stderr=b"mypy: can't read file 'x'\n"))
    assert failure.message == "mypy exited 2: mypy: can't read file 'x'"


def test_junit_cases_get_node_ids_when_the_module_is_in_the_project(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text("")
    cases = parse_junit(recorded("junit.xml"), tmp_path)
    assert [(c.name, c.outcome, c.duration_ms) for c in cases] == [
        ("test_app.py::test_ok", "failed", 1.0),
        ("test_app.py::test_bad", "failed", 0.0),
        ("test_app.py::test_later", "skipped", 0.0),
        ("test_app.py::TestGroup::test_inner", "failed", 0.0),
    ]
    ok, bad, later, inner = (c.message or "" for c in cases)
    assert "TypeError: unsupported operand type(s) for +: 'int' and 'str'" in ok
    assert "AssertionError: one is not two" in bad and bad.startswith("def test_bad():")
    assert later == "later"
    assert inner.endswith("test_app.py:21: RuntimeError")


def test_junit_names_stay_dotted_without_the_module_and_bad_xml_is_no_cases(
    tmp_path: Path,
) -> None:
    names = [c.name for c in parse_junit(recorded("junit.xml"), tmp_path)]
    assert names[-1] == "test_app::TestGroup::test_inner"
    assert parse_junit(b"<testsuites><testcase", tmp_path) == []


def test_go_vet_json_findings_and_compiler_style_type_errors() -> None:
    [printf] = parse_vet(recorded("vet_calc.txt").decode())
    assert printf == Finding(
        "go vet",
        "printf",
        "warning",
        "calc/calc.go",
        6,
        14,
        'fmt.Printf format %d has arg "not a number" of wrong type string',
    )
    [typecheck] = parse_vet(recorded("vet_broken.txt").decode())
    assert (typecheck.rule, typecheck.severity, typecheck.file) == (
        "typecheck",
        "error",
        "broken/broken.go",
    )
    assert (typecheck.line, typecheck.column) == (4, 9)
    assert typecheck.message.startswith('invalid operation: x / "2"')


def test_go_test_json_one_case_per_test_and_subtest_with_failure_output() -> None:
    cases = parse_test2json(recorded("test_calc.json"), prefix="calc::")
    assert [(c.name, c.outcome) for c in cases] == [
        ("calc::TestAdds", "passed"),
        ("calc::TestWrong", "failed"),
        ("calc::TestSkipped", "skipped"),
        ("calc::TestTable", "failed"),
        ("calc::TestTable/one", "passed"),
        ("calc::TestTable/two", "failed"),
    ]
    messages = {c.name.removeprefix("calc::"): c.message for c in cases}
    assert messages["TestAdds"] is None and messages["TestTable"] is None
    assert messages["TestWrong"] == (
        "calc_test.go:12: checking two and two\n%!d(string=not a number)\n"
        "%!d(string=not a number)\n    calc_test.go:14: two and two: 4"
    )
    assert messages["TestSkipped"] == "calc_test.go:18: later"
    assert messages["TestTable/two"] == "calc_test.go:24: two fails"


def test_a_go_test_that_never_finished_is_an_error_with_what_it_printed() -> None:
    lines = recorded("test_calc.json").splitlines(keepends=True)
    died = b"".join(lines[:11])  # the binary died inside TestWrong (panic, os.Exit, timeout)
    cases = parse_test2json(died)
    assert cases[0] == CaseResult("TestAdds", "passed", 0.0, None)
    wrong = cases[1]
    assert (wrong.name, wrong.outcome) == ("TestWrong", "error")
    assert wrong.message is not None and wrong.message.startswith("calc_test.go:12: checking")


def test_a_package_that_failed_without_a_failing_test_is_one_package_error() -> None:
    events = [
        {"Action": "output", "Output": "panic: init failed\n"},
        {"Action": "fail", "Elapsed": 0.01},
    ]
    stream = "\n".join(json.dumps(e) for e in events).encode()
    assert parse_test2json(stream, prefix="p::") == [
        CaseResult("p::(package)", "error", 0.0, "panic: init failed")
    ]


def test_test2json_text_is_the_plain_output_it_carries() -> None:
    text = go.test2json_text(  # imported by name, pytest would collect it
        recorded("test_calc.json") + b"not an event\n"
    ).decode()
    assert text.startswith("=== RUN   TestAdds\n%!d(string=not a number)\n--- PASS: TestAdds")
    assert "FAIL\texample.com/rec/calc\t0.003s\n" in text
    assert text.endswith("not an event\n")
