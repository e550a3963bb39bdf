"""The README stays true: its command blocks run here as written, where they can.

Blocks are read from README.md itself. Each one is either run (by the test named in
``COVERAGE``) or skipped for the reason given there; a block that is neither fails
``test_every_readme_block_is_run_or_skipped_for_a_reason``, so a new block needs a decision.
``codeteam`` in a block runs this checkout (``python -m codeteam``), not an installed copy."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from codeteam.config import OTHER_VARIABLES, Settings, env_name
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: ``codeteam`` in a README line, as this checkout.
PRELUDE = 'codeteam() { "$README_PY" -m codeteam "$@"; }\n'
LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) + "\n"


@dataclass(frozen=True)
class Block:
    language: str
    lines: list[str]

    @property
    def first(self) -> str:
        return self.lines[0]

    def line(self, start: str) -> str:
        """The one command (a line, its comment removed) that is ``start``, else the one
        that starts with it."""
        commands = [line.split("  #", 1)[0].strip() for line in self.lines]
        found = [c for c in commands if c == start] or [c for c in commands if c.startswith(start)]
        assert len(found) == 1, (start, self.lines)
        return found[0]


def readme_blocks() -> list[Block]:
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", README.read_text(), re.M | re.S)
    return [Block(language, text.splitlines()) for language, text in blocks]


def block(first: str) -> Block:
    (found,) = [b for b in readme_blocks() if b.first.startswith(first)]
    return found


#: Every block of the README, by the start of its first line: the test that runs it, or
#: why it cannot run here.
COVERAGE = {
    "scripts/install.sh && /usr/local/bin/codeteam serve": "skipped: a full install of the machine; .ci/run "
    "runs both lines on a fresh one, test_scripts_as_root.py their root/sudo step",
    "claude mcp add codeteam --": "test_the_claude_code_command_serves_tools_over_stdio "
    "(the part after --; `claude` itself is not installed here)",
    "export CODETEAM_TOKEN=": "test_the_http_example_serves_with_its_token "
    "(`claude mcp add` is not installed here)",
    "{": "test_the_claude_desktop_config_is_json_naming_the_installed_command",
    "export ANTHROPIC_API_KEY=": "test_the_team_block_without_a_model "
    "(`codeteam run` itself needs a model: tests/team drives it against a fake Messages API)",
    "codeteam eval humaneval --mode single": "test_the_eval_block_without_a_model "
    "(an eval needs a model: tests/eval drives it against the fake model APIs)",
    "CODETEAM_CALL_MEMORY=": "test_the_configuration_example_equals_its_flag",
    "export RAY_AUTH_MODE=token": "skipped: here; tests/cluster/ starts such a cluster (a "
    "head and two workers by `ray start`, token auth) and serves against it",
    "for port in 8081 8082 8083": "skipped: here; tests/cluster/test_http_replicas.py runs "
    "three replicas behind deploy/haproxy.cfg",
    "scripts/build-image.sh": "skipped: here; tests/container/ builds the image with it",
    "mkdir -p workspace": "skipped: here; tests/container/conftest.py runs its docker run line",
    "git clone <this repository>": "skipped: Docker Desktop on macOS cannot run here",
    "$env:CODETEAM_TOKEN": "skipped: Docker Desktop on Windows (PowerShell) cannot run here",
    "scripts/install.sh --dev": "skipped: the install and the whole suite (this test is in "
    "it); bench/run.py takes many minutes; the catalog line is checked by "
    "test_precomputed_listing_equals_the_live_catalog",
    "src/codeteam/": "test_the_layout_names_what_exists",
}


def shell_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETEAM_")}
    return {
        **env,
        "README_PY": sys.executable,
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
    }


def bash(script: str, tmp_path: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run README lines under bash, in a workspace the sandbox could read."""
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    for path in (tmp_path, workspace):
        path.chmod(0o755)
    env = {**shell_env(tmp_path), **kw.pop("env", {})}  # type: ignore[dict-item]
    return subprocess.run(
        ["/bin/bash", "-c", PRELUDE + script],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kw,  # type: ignore[arg-type]
    )


def test_every_readme_block_is_run_or_skipped_for_a_reason() -> None:
    firsts = [b.first for b in readme_blocks()]
    covered = {key: [f for f in firsts if f.startswith(key)] for key in COVERAGE}
    assert {key: len(found) for key, found in covered.items()} == dict.fromkeys(COVERAGE, 1)
    assert len(firsts) == len(COVERAGE), [f for f in firsts if not f.startswith(tuple(COVERAGE))]
    for reason in COVERAGE.values():
        test = reason.split()[0]
        assert reason.startswith("skipped: ") or test in globals(), test


def test_the_claude_code_command_serves_tools_over_stdio(tmp_path: Path) -> None:
    command = block("claude mcp add codeteam --").line("claude mcp add").split(" -- ", 1)[1]
    assert command.startswith("codeteam serve ")
    done = bash(command, tmp_path, input=LIST)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["tools"][0]["name"] == "execute_code"
    assert done.stderr == ""


def test_the_http_example_serves_with_its_token(tmp_path: Path) -> None:
    http = block("export CODETEAM_TOKEN=")
    token_line = http.line("export CODETEAM_TOKEN=")
    serve_line = http.line("codeteam serve --transport http")
    assert " --port 8080 " in serve_line and serve_line.endswith("&")
    port = free_port()  # 8080 may be taken on a shared machine
    script = f'{token_line}\n{serve_line.replace("8080", str(port))}\necho "$CODETEAM_TOKEN"\nwait'
    workspace = tmp_path / "ws"
    workspace.mkdir()
    tmp_path.chmod(0o755)
    proc = subprocess.Popen(
        ["/bin/bash", "-c", PRELUDE + script],
        cwd=workspace,
        env=shell_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        token = proc.stdout.readline().strip()
        assert len(token) >= 40
        wait_for_port(port, proc)
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx.post(url, json={}, timeout=30).status_code == 401  # no token
        asyncio.run(list_tools_with(url, token))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


async def list_tools_with(url: str, token: str) -> None:
    """A real MCP session (the official SDK) sending the token as the example does."""
    headers = {"authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode="legacy") as client:
            tools = await client.list_tools()
    assert tools.tools[0].name == "execute_code"


def wait_for_port(port: int, proc: subprocess.Popen[str], deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {deadline_s} s")


def test_the_claude_desktop_config_is_json_naming_the_installed_command() -> None:
    from codeteam.cli import parse_serve_args

    config = json.loads("\n".join(block("{").lines))
    server = config["mcpServers"]["codeteam"]
    assert server["command"] == "/usr/local/bin/codeteam"  # where scripts/install.sh links it
    assert os.access(server["command"], os.X_OK), "run scripts/install.sh"
    assert server["args"][0] == "serve"
    assert parse_serve_args(server["args"][1:]).roots == [Path("/home/me/projects")]


def shown_with_resume(team: Block) -> str:
    """The README resumes the same run it shows."""
    return team.line("codeteam run --resume").split()[-1]


def test_the_team_block_without_a_model(tmp_path: Path) -> None:
    team = block("export ANTHROPIC_API_KEY=")
    listed = bash(team.line("codeteam runs"), tmp_path)
    assert listed.returncode == 0 and "runs.db" in listed.stdout, listed.stderr
    run_id = team.line("codeteam runs show").split()[-1]
    # a beginning of the form run ids have (YYYYMMDD-HHMMSS-xxxxxx): any unique one is taken
    assert re.fullmatch(r"\d{8}(-\d{1,6}(-[0-9a-f]{0,6})?)?", run_id)
    assert shown_with_resume(team) == run_id
    shown = bash(team.line("codeteam runs show"), tmp_path)
    assert shown.returncode == 2
    assert (
        shown.stderr
        == f"codeteam: no run '{run_id}' in {tmp_path}/codeteam/runs.db: see 'codeteam runs'\n"
    )
    # the UI serves the same records (on any free port here) and says where
    ui = subprocess.Popen(
        ["/bin/bash", "-c", PRELUDE + team.line("codeteam ui") + " --port 0"],
        cwd=tmp_path,
        env=shell_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # bash and the UI it starts: stopped together
    )
    try:
        assert ui.stdout is not None
        url = ui.stdout.readline().split(" at ")[-1].strip()
        assert "codeteam/runs.db" in httpx.get(url, timeout=10).text
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=10)
    # "always needed": a base URL without a key is refused, in one line naming the key.
    env = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    env_less = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    run = team.line('codeteam run "Implement')
    refused = subprocess.run(
        ["/bin/bash", "-c", PRELUDE + run],
        cwd=tmp_path,
        env={**env_less, **env, "README_PY": sys.executable, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("codeteam: no Anthropic API key: set ANTHROPIC_API_KEY")


def test_the_eval_block_without_a_model(tmp_path: Path) -> None:
    ev = block("codeteam eval humaneval --mode single")
    listed = bash(ev.line("codeteam evals"), tmp_path)
    assert listed.returncode == 0 and "runs.db" in listed.stdout, listed.stderr
    compared = bash(ev.line("codeteam evals compare"), tmp_path)
    assert compared.returncode == 2 and compared.stderr.startswith("codeteam: no eval 'e2026")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    for line in ("codeteam eval humaneval --mode single", "codeteam eval humaneval --mode team"):
        refused = subprocess.run(
            ["/bin/bash", "-c", PRELUDE + ev.line(line)],
            cwd=tmp_path,
            env={**env, "README_PY": sys.executable, "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith("codeteam: no Anthropic API key: set ANTHROPIC_API_KEY")


def test_the_configuration_example_equals_its_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codeteam.cli import parse_serve_args

    line = block("CODETEAM_CALL_MEMORY=").first
    command, comment = line.split("#", 1)
    assignment = command.split(" ", 1)[0]
    name, value = assignment.split("=")
    flags = comment.split("the same as: codeteam serve ", 1)[1].split()
    for key in [k for k in os.environ if k.startswith("CODETEAM_")]:
        monkeypatch.delenv(key)
    from_flags = parse_serve_args(flags)
    monkeypatch.setenv(name, value)
    from_env = parse_serve_args([])
    assert from_env == from_flags and from_env.call_memory_bytes != Settings().call_memory_bytes
    served = bash(command.strip(), tmp_path, input=LIST)  # as written: serves, no warning
    assert served.returncode == 0 and served.stderr == "", served.stderr
    assert json.loads(served.stdout)["id"] == 1


def test_every_flag_and_variable_the_readme_names_exists() -> None:
    """Flags in backticks are flags of a codeteam command or a script; every CODETEAM_*
    variable is a serve flag's (by the rule) or one the project reads elsewhere."""
    helps = ""
    for args in (["serve"], ["run"], ["runs"], ["runs", "show"], ["eval"], ["evals"]):
        helps += subprocess.run(
            [sys.executable, "-m", "codeteam", *args, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    for script in ("install.sh", "build-image.sh"):
        helps += (ROOT / "scripts" / script).read_text()
    # the Docker section names docker's own flags (.ci/run installs docker.io)
    helps += subprocess.run(
        ["docker", "run", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    text = README.read_text()
    serve_flags = set(re.findall(r"--[a-z][a-z-]+", helps.split("usage: codeteam run")[0]))
    flags = set(re.findall(r"`[^`\n]*?(--[a-z][a-z-]+)", text))
    assert {"--call-memory", "--pool-size", "--keepalive"} <= flags
    assert sorted(f for f in flags if f not in helps) == []
    variables = set(re.findall(r"\bCODETEAM_[A-Z_]*[A-Z]\b", text))
    deprecated = {"CODETEAM_ROOTS", "CODETEAM_MEMORY_BYTES"}  # named as the old names
    known = {env_name(f) for f in serve_flags} | OTHER_VARIABLES | deprecated
    assert sorted(variables - known) == []


def test_the_layout_names_what_exists() -> None:
    for line in block("src/codeteam/").lines[1:]:
        names = line.strip().split("  ", 1)[0]
        for name in names.split(", "):
            base = ROOT if name == "bench/" else ROOT / "src" / "codeteam"
            assert (base / name).exists(), name
