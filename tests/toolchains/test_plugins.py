"""A language is one module plus one entry point: a toy language installed through the
``codeteam.toolchains`` group (a distribution on the server's sys.path, as pip would leave
it) shows in ``list_toolchains`` and runs in ``execute_code``, through a real MCP session
with the official SDK client, beside the built-in languages registered the same way (which
win over a plugin claiming their name)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from tests.e2e.conftest import PYTHON, require_sandbox, server_env

TOY_MODULE = '''
from codeteam.sandbox.spec import SandboxSpec
from codeteam.toolchains.base import ToolchainInfo, ToolInfo


class ToyToolchain:
    """Toy: a program is a shell script."""

    language = "toy"
    file_suffixes = (".toy",)
    project_markers = ("toy.project",)

    def __init__(self, runtime):
        self.runtime = runtime

    def detect(self):
        return ToolchainInfo("toy", True, [ToolInfo("sh", "1.0", "/bin/sh")])

    def snippet(self, code):
        return {"main.toy": code.encode()}

    async def execute(self, executor, code, stdin, timeout_s):
        spec = SandboxSpec(
            argv=["/bin/sh", "/work/main.toy"],
            files=self.snippet(code),
            stdin=stdin,
            timeout_s=timeout_s,
        )
        return await executor.run(spec)

    def collected_nothing(self, exit_code):
        return False

    def linters(self, strict):
        return []
'''


def install_toy(site: Path) -> None:
    """What ``pip install codeteam-toy`` would leave: a module and its dist-info."""
    (site / "codeteam_toy.py").write_text(TOY_MODULE)
    info = site / "codeteam_toy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: codeteam-toy\nVersion: 0.1\n")
    # It also claims "python": codeteam's own toolchain must still be the one that runs.
    (info / "entry_points.txt").write_text(
        "[console_scripts]\ntoy = codeteam_toy:main\n\n"
        "[codeteam.toolchains]\n# a comment\n"
        "toy = codeteam_toy:ToyToolchain [fast]\npython = codeteam_toy:ToyToolchain\n"
    )


def structured(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result
    return dict(result.structured_content)


async def test_a_language_installed_through_the_entry_point_is_listed_and_runs(
    tmp_path: Path,
) -> None:
    require_sandbox()
    site = tmp_path / "site"
    site.mkdir()
    install_toy(site)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for folder in (tmp_path, site, workspace):
        os.chmod(folder, 0o755)
    server = StdioServerParameters(
        command=PYTHON,
        args=["-m", "codeteam", "serve", "--root", str(workspace)],
        env={**server_env(), "PYTHONPATH": str(site)},
        cwd=str(workspace),
    )
    async with Client(server, mode="legacy") as client:
        listed = structured(await client.call_tool("list_toolchains", {}))
        languages = [entry["language"] for entry in listed["languages"]]
        assert languages == ["python", "go", "toy"]
        toy = listed["languages"][2]
        assert toy["available"] is True and toy["tools"][0]["name"] == "sh"

        r = await client.call_tool(
            "execute_code",
            {"language": "toy", "code": 'read word; echo "toy says $word"; exit 3', "stdin": "hi"},
        )
        ran = structured(r)
        assert (ran["status"], ran["exit_code"], ran["stdout"]) == ("error", 3, "toy says hi\n")

        r = await client.call_tool("execute_code", {"language": "python", "code": "print(6*7)"})
        assert structured(r)["stdout"] == "42\n"

        r = await client.call_tool("execute_code", {"language": "cobol", "code": "x"})
        refused = structured(r)
        assert r.is_error and refused["status"] == "rejected"
        assert refused["error"] == "unknown language 'cobol'; available: python, go, toy"
        r = await client.call_tool("code_review", {"code": "x"})
        assert r.is_error and structured(r)["error"] == (
            "language is required with code: python, go or toy"
        )
