"""execute_code in both languages, through the real sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.helpers import call

GO_HELLO = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hello from go")\n}\n'
GO_ECHO = (
    'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n)\n\n'
    "func main() {\n\ts := bufio.NewScanner(os.Stdin)\n"
    '\tfor s.Scan() {\n\t\tfmt.Println("got", s.Text())\n\t}\n}\n'
)


async def test_python_prints_and_reads_stdin(ctx: Any) -> None:
    out = await call(
        ctx,
        "execute_code",
        language="python",
        code="import sys\nprint('sum', sum(map(int, sys.stdin.read().split())))",
        stdin="1 2 3",
    )
    assert out.structured["status"] == "ok", out.text
    assert out.structured["exit_code"] == 0
    assert out.structured["stdout"] == "sum 6\n"
    assert out.structured["stderr"] == ""
    assert out.structured["truncated"] is False
    assert out.structured["limit"] is None
    assert out.is_error is False


async def test_python_nonzero_exit_is_error_with_traceback(ctx: Any) -> None:
    out = await call(ctx, "execute_code", language="python", code="raise ValueError('boom')")
    assert out.structured["status"] == "error"
    assert out.structured["exit_code"] == 1
    assert "ValueError: boom" in out.structured["stderr"]
    assert out.is_error is True


async def test_python_infinite_loop_times_out(ctx: Any) -> None:
    out = await call(ctx, "execute_code", language="python", code="while True: pass", timeout_s=1)
    assert out.structured["status"] == "timeout"
    assert out.structured["limit"] == "wall_clock"
    assert out.is_error is True


async def test_python_200kib_program_runs(ctx: Any) -> None:
    body = "".join(f"v{i} = {i}\n" for i in range(20000))
    code = body + "print(v19999)\n"
    assert len(code) > 200 * 1024
    out = await call(ctx, "execute_code", language="python", code=code)
    assert out.structured["status"] == "ok", out.text
    assert out.structured["stdout"] == "19999\n"


async def test_go_hello_world_runs(ctx: Any) -> None:
    out = await call(ctx, "execute_code", language="go", code=GO_HELLO)
    assert out.structured["status"] == "ok", out.text
    assert out.structured["stdout"] == "hello from go\n"
    assert out.structured["exit_code"] == 0


async def test_concurrent_go_builds_all_succeed(ctx: Any) -> None:
    """Every compile runs as the one build uid: six at once (distinct programs, so none is a
    cached binary) once failed with "newosproc" under the per-call thread limit."""
    import asyncio

    programs = [GO_HELLO.replace("hello from go", f"build {n}") for n in range(6)]
    outs = await asyncio.gather(
        *(call(ctx, "execute_code", language="go", code=code) for code in programs)
    )
    for n, out in enumerate(outs):
        assert out.structured["status"] == "ok", out.text
        assert out.structured["stdout"] == f"build {n}\n"


async def test_go_reads_stdin(ctx: Any) -> None:
    out = await call(ctx, "execute_code", language="go", code=GO_ECHO, stdin="a\nb\n")
    assert out.structured["status"] == "ok", out.text
    assert out.structured["stdout"] == "got a\ngot b\n"


async def test_go_compile_error_is_error_with_compiler_output(ctx: Any) -> None:
    out = await call(
        ctx,
        "execute_code",
        language="go",
        code="package main\n\nfunc main() {\n\tundefinedThing()\n}\n",
    )
    assert out.structured["status"] == "error"
    assert out.structured["exit_code"] not in (0, None)
    assert "undefined: undefinedThing" in out.structured["stderr"]
    assert "main.go:4" in out.structured["stderr"]


async def test_go_exit_code_is_reported(ctx: Any) -> None:
    code = 'package main\n\nimport "os"\n\nfunc main() {\n\tos.Exit(3)\n}\n'
    out = await call(ctx, "execute_code", language="go", code=code)
    assert out.structured["status"] == "error"
    assert out.structured["exit_code"] == 3


async def test_go_infinite_loop_times_out(ctx: Any) -> None:
    code = "package main\n\nfunc main() {\n\tfor {\n\t}\n}\n"
    out = await call(ctx, "execute_code", language="go", code=code, timeout_s=1)
    assert out.structured["status"] == "timeout"


async def test_go_200kib_program_runs(ctx: Any) -> None:
    funcs = "".join(f"func f{i}() int {{ return {i} }}\n" for i in range(8000))
    code = f'package main\n\nimport "fmt"\n\n{funcs}\nfunc main() {{\n\tfmt.Println(f7999())\n}}\n'
    assert len(code) > 200 * 1024
    out = await call(ctx, "execute_code", language="go", code=code, timeout_s=60)
    assert out.structured["status"] == "ok", out.text[:2000]
    assert out.structured["stdout"] == "7999\n"


@pytest.mark.parametrize("language", ["python", "go"])
async def test_execute_sends_progress(ctx: Any, language: str) -> None:
    code = "print(1)" if language == "python" else GO_HELLO
    await call(ctx, "execute_code", language=language, code=code)
    assert ctx.progress_calls, "no progress notification was sent"


async def test_python_starts_without_the_distutils_shim(ctx: Any) -> None:
    """The runtime's interpreter does not import setuptools' ``distutils`` shim at start
    (0.45 ms of each start's CPU); code that imports setuptools still gets
    setuptools' own distutils, which the build tool's wheels rely on."""
    code = (
        "import sys\n"
        "print(sorted(m for m in sys.modules if 'distutils' in m))\n"
        "import setuptools, distutils.core\n"
        "print(distutils.core.__file__)\n"
    )
    out = await call(ctx, "execute_code", language="python", code=code)
    assert out.structured["status"] == "ok", out.text
    first, second = out.structured["stdout"].splitlines()
    assert first == "[]"
    assert "/setuptools/_distutils/" in second
