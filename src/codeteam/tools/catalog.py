"""The built-in tools with the descriptions a model reads to choose and call them.

On the ``tools/list`` path: the tool modules import nothing heavy at module level.
"""

from __future__ import annotations

from codeteam.tools.base import Annotations, ToolSpec

EXECUTE = """Run a complete program in an isolated sandbox and return how it ended.
Python: a script run with python3 (the sandbox runtime has pytest; no network, no pip install).
Go: a single file with `package main` and `func main()`, standard library only; it is
compiled, then run. The code has no network, a private writable /work and /tmp, and limits on
CPU, memory, processes and file size; the wall-clock timeout defaults to 30 s.
Returns status (ok | error: non-zero exit or compile error | timeout | killed: a limit, named
in `limit`), exit_code, signal, stdout and stderr (each capped at 64 KiB, head and tail kept,
`truncated` says so) and duration_ms."""

RUN_TESTS = """Run the tests of a project in the workspace: pytest for Python, `go test` for Go
(a Go module with go.mod). `path` is a test file or directory relative to the workspace root;
the language is detected from it unless given. `select` limits the run to named tests: pytest
node ids (tests/test_x.py::test_y) or plain test names (test_y; Go: TestY, or dir::TestY for one
package). Tests run sandboxed on a read-only view of the project with a writable /tmp, no
network. Go: race=true adds the data-race detector (a race fails the test). Returns status
(ok only when every selected test passed; failed; error: could not
compile/collect; no_tests; timeout; killed), counts, and one entry per test (name, outcome
passed|failed|error|skipped, duration_ms, message with the failure output), plus the runner's
capped output."""

CODE_REVIEW = """Lint code and report findings. Give exactly one of `code` (a snippet;
`language` required) or `path` (a file or directory in the workspace). Python: ruff and bandit;
Go: gofmt and go vet (staticcheck and gosec when installed). strict_types=true adds
mypy --strict for Python (slower). Linters run sandboxed and never
modify files. Returns findings (tool, rule, severity error|warning|info, file, line, column,
message), `clean` (true when there are none — an explicit "looks clean" answer), the linters
that ran and those skipped because they are not installed."""

READ_FILE = """Read a text file in the workspace. `path` is relative to the workspace root.
Returns its lines from `offset` (0-based, default 0), at most `limit` lines and 256 KiB;
`truncated` and `total_lines` say whether more follow. Binary files are refused."""

WRITE_FILE = """Create or replace a text file in the workspace with `content` (whole file,
UTF-8, up to 1 MiB). Parent directories are created. The write is atomic: readers see the old
or the new file, never a mix. Paths outside the workspace roots are refused."""

LIST_FILES = """List files under a workspace directory (default: the workspace root),
recursively, skipping .git, caches and virtualenvs; `pattern` filters with a glob on the
relative path or name (*.py, src/*.go). Returns entries (path, type file|dir|symlink, size),
at most 1000."""

RUN_BENCHMARKS = """Run a project's benchmarks and return per-benchmark figures. Python:
pytest-benchmark tests (functions taking the `benchmark` fixture), run with --benchmark-only;
Go: `go test -bench -benchmem -run '^$'` on every package under `path`. `select` limits the
run (pytest names or node ids; Go BenchmarkX names). Sandboxed, no network; wall clock 120 s by
default. Returns status (ok | error | no_benchmarks | timeout | killed) and per benchmark:
name, ns_per_op (Python: the mean), bytes_per_op and allocs_per_op (Go), iterations, rounds
(Python), min_ns/max_ns/stddev_ns (Python), plus the runner's capped output. Compare figures
measured in the same environment only."""

PROFILE = """Find where the time goes. Give exactly one of `path` (profile a project's
tests: a directory or test file; Go: one package, its tests and benchmarks) or `code` (profile
a whole program: a Python script, or a Go `package main`; `language` required). Python runs
under cProfile, Go under the CPU profiler with `go tool pprof -top`. Sandboxed, no network.
Returns status, and `entries`: the top functions (default 25) by total_ms, the time spent in
the function itself, with cumulative_ms (including callees), calls (Python) and file:line
(Python), plus the program's capped output. Start optimising at the first entries."""

BUILD = """Build a deployable artifact of a project in the workspace and write it into
the project. `target`: wheel (Python, offline: no downloads, no build isolation; written to
<path>/dist/), binary (Go main package, static; written to <path>/bin/<name>), dockerfile
(a multi-stage Dockerfile for the project at <path>/Dockerfile; an existing one is kept
unless overwrite=true), docker_image (runs `docker build` on the project — NOT sandboxed, it
uses the Docker engine; generates a Dockerfile first if there is none; an `unavailable`
error when no engine answers). Nothing is pushed anywhere. Returns status, the artifacts
(path, size, sha256; for an image its id), `sandboxed` and the build's capped output."""

LIST_TOOLCHAINS = """List the languages this server can run and their tools (interpreters,
compilers, test runners, linters) with versions, and how to install whatever is missing."""


def builtin_tools() -> list[ToolSpec]:
    from codeteam.tools.bench import run_benchmarks
    from codeteam.tools.build import build
    from codeteam.tools.execute import execute_code
    from codeteam.tools.files import list_files, read_file, write_file
    from codeteam.tools.profile import profile
    from codeteam.tools.review import code_review
    from codeteam.tools.testing import run_tests
    from codeteam.tools.toolchains_tool import list_toolchains

    def spec(fn: object, description: str, annotations: Annotations) -> ToolSpec:
        return ToolSpec.from_function(fn, description=description, annotations=annotations)  # type: ignore[arg-type]

    return [
        spec(
            execute_code,
            EXECUTE,
            Annotations("Execute code", read_only=True, destructive=False, idempotent=False),
        ),
        spec(
            run_tests,
            RUN_TESTS,
            Annotations("Run tests", read_only=True, destructive=False, idempotent=True),
        ),
        spec(
            code_review,
            CODE_REVIEW,
            Annotations("Review code", read_only=True, destructive=False, idempotent=True),
        ),
        spec(
            read_file,
            READ_FILE,
            Annotations("Read a file", read_only=True, destructive=False, idempotent=True),
        ),
        spec(
            write_file,
            WRITE_FILE,
            Annotations("Write a file", read_only=False, destructive=True, idempotent=True),
        ),
        spec(
            list_files,
            LIST_FILES,
            Annotations("List files", read_only=True, destructive=False, idempotent=True),
        ),
        spec(
            run_benchmarks,
            RUN_BENCHMARKS,
            Annotations("Run benchmarks", read_only=True, destructive=False, idempotent=False),
        ),
        spec(
            profile,
            PROFILE,
            Annotations("Profile", read_only=True, destructive=False, idempotent=False),
        ),
        spec(
            build,
            BUILD,
            Annotations("Build", read_only=False, destructive=True, idempotent=True),
        ),
        spec(
            list_toolchains,
            LIST_TOOLCHAINS,
            Annotations("List toolchains", read_only=True, destructive=False, idempotent=True),
        ),
    ]
