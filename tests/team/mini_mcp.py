"""A stand-in MCP server for the team's unit tests (``python mini_mcp.py ROOT``).

Built on the official SDK's server so the team's client is tested against an independent
implementation. It runs code UNSANDBOXED: test fixture only. The end-to-end scenarios use
the real ``codeteam serve``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from mcp.server.mcpserver import MCPServer

ROOT = Path(sys.argv[1]).resolve()
server = MCPServer("mini-codeteam", log_level="CRITICAL")


def _inside(path: str) -> Path:
    p = (ROOT / path).resolve()
    if not p.is_relative_to(ROOT):
        raise ValueError(f"path {path!r} is outside the workspace root")
    return p


@server.tool()
def write_file(path: str, content: str) -> str:
    """Write a file under the workspace root."""
    p = _inside(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(content)
    return f"wrote {len(content)} bytes to {path}"


@server.tool()
def read_file(path: str) -> str:
    """Read a file under the workspace root."""
    return _inside(path).read_text()


@server.tool()
def list_files(path: str = ".") -> str:
    """List files under a directory of the workspace."""
    base = _inside(path)
    return "\n".join(sorted(str(p.relative_to(ROOT)) for p in base.rglob("*") if p.is_file()))


@server.tool()
def execute_code(language: str, code: str) -> str:
    """Run a Python program."""
    if language != "python":
        raise ValueError(f"unknown language {language!r}")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    out = subprocess.run([sys.executable, f.name], capture_output=True, text=True, timeout=30)
    if out.returncode:
        raise RuntimeError(f"exit {out.returncode}\n{out.stdout}{out.stderr}")
    return out.stdout


@server.tool()
def run_tests(path: str) -> str:
    """Run pytest on a path of the workspace."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(_inside(path))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    if out.returncode:
        raise RuntimeError(f"tests failed\n{out.stdout[-3000:]}")
    return out.stdout[-3000:]


@server.tool()
def code_review(path: str) -> str:
    """Lint a path with ruff."""
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(_inside(path))], capture_output=True, text=True
    )
    return out.stdout or "no findings"


if __name__ == "__main__":
    server.run()
