"""``codeteam ui`` as a user meets it: a database written by a real ``codeteam run`` (the
fake Messages API plays the model, the real ``codeteam serve`` runs the tools), the UI
started as its own process, pages opened in Debian's headless Chromium via Playwright."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.team.conftest import role
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_cli import codeteam, env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).with_name("artifacts")
#: What a tool printed that must show as text, never run.
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'

CALC = "def add(a, b):\n    return a + b\n"
TESTS = (
    "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_add_negative():\n    assert add(-1, 1) == 0\n"
)


def calc_script(req: ModelRequest) -> Response:
    """The lead plans code -> (tests, review); each specialist uses the real tools."""
    who, turn = role(req), req.turn
    if who == "lead":
        if turn == 0:
            return Reply(
                [
                    text("Plan: write calc.py, then test and review it."),
                    tool_use("assign_task", id="impl", agent="code", description="Write calc.py"),
                    tool_use(
                        "assign_task",
                        id="tests",
                        agent="test",
                        depends_on=["impl"],
                        description="Test calc.py",
                    ),
                    tool_use(
                        "assign_task",
                        id="review",
                        agent="review",
                        depends_on=["impl"],
                        description="Review calc.py",
                    ),
                ]
            )
        return Reply([text("FINAL REPORT: calc.py written, tested and reviewed.")])
    if who == "code":
        if turn == 0:
            return Reply([tool_use("write_file", path="calc.py", content=CALC)])
        if turn == 1:
            code = f"print('STDOUT-MARK ' + {XSS!r})"
            return Reply([tool_use("execute_code", language="python", code=code)])
        return Reply([text("calc.py written and run")])
    if who == "test":
        if turn == 0:
            return Reply([tool_use("write_file", path="test_calc.py", content=TESTS)])
        if turn == 1:
            return Reply([tool_use("run_tests", path=".", language="python")])
        return Reply([text("tests pass")])
    if who == "review":
        if turn == 0:
            return Reply([tool_use("code_review", path="calc.py", language="python")])
        return Reply([text("reviewed")])
    raise AssertionError(f"unexpected caller {who}")


def workspace_dir() -> Path:
    """Searchable by the sandbox's unprivileged uid (pytest's tmp_path is not)."""
    ws = Path(tempfile.mkdtemp(prefix="codeteam-ui-"))
    ws.chmod(0o755)
    return ws


def start_run(
    db: Path, ws: Path, fake: FakeAnthropic, request: str, runs_dir: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        codeteam("run", request, "--workspace", str(ws), "--db", str(db), "--json"),
        env=env(ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake.url, CODETEAM_RUN_DIR=str(runs_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Recorded:
    db: Path
    run_id: str
    root: Path


@pytest.fixture(scope="package")
def recorded() -> Iterator[Recorded]:
    """One real run of the team, recorded in a fresh database."""
    root = workspace_dir()
    db = root / "runs.db"
    ws = root / "ws"
    ws.mkdir(mode=0o755)
    with FakeAnthropic(calc_script) as fake:
        proc = start_run(db, ws, fake, "write calc.py with tests", root / "runs")
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    run_id = re.search(r'"run_id": "([^"]+)"', out)
    assert run_id is not None, out
    yield Recorded(db, run_id.group(1), root)
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Ui:
    url: str
    proc: subprocess.Popen[str]


def start_ui(db: Path, *extra: str) -> Ui:
    proc = subprocess.Popen(
        codeteam("ui", "--db", str(db), "--port", "0", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"(http://\S+?)/?$", line.strip())
    if found is None:
        proc.kill()
        raise AssertionError(f"no URL from codeteam ui: {line!r} {proc.stderr.read()!r}")
    return Ui(found.group(1), proc)


def stop_ui(ui: Ui) -> None:
    ui.proc.terminate()
    ui.proc.wait(timeout=10)


@pytest.fixture(scope="package")
def ui(recorded: Recorded) -> Iterator[Ui]:
    server = start_ui(recorded.db)
    yield server
    stop_ui(server)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    """A page plus every console error and uncaught exception it saw."""

    page: Any
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    t = Tab(page)
    page.on("console", lambda m: t.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: t.errors.append(str(exc)))
    page.on("dialog", lambda d: (t.errors.append(f"dialog: {d.message}"), d.dismiss()))
    yield t
    context.close()
    assert t.errors == [], t.errors


OpenPage = Callable[[str], Any]
