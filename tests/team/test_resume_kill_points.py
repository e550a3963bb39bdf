"""Killed at any phase of a run and resumed, a run ends exactly as an uninterrupted one:
the same final workspace, every task on the same base, each merge applied once.

Real ``codeteam run`` subprocesses against the fake Messages API. Kills inside a task
are driven from outside (the fake, on the request it was told to stop at, SIGKILLs the
CLI's process group before answering); kills inside a merge, which nothing outside can time,
through the ``CODETEAM_TEST_KILL_AT`` point the process reaches itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeteam.store import Store
from tests.team.conftest import mini_server, role, task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_resume import env

TEST = "from mod import VALUE\n\n\ndef test_value():\n    assert VALUE == 42\n"


def reply(req: ModelRequest) -> Response:
    """Code task ``a`` writes two files; test task ``b`` (after a) writes a test that
    imports a's module and runs it: on the wrong base its tests fail."""
    who, turn = role(req), req.turn
    if who == "lead":
        if turn == 0:
            return Reply(
                [
                    tool_use("assign_task", id="a", agent="code", description="write mod.py"),
                    tool_use(
                        "assign_task",
                        id="b",
                        agent="test",
                        description="test mod.py",
                        depends_on=["a"],
                    ),
                ]
            )
        return Reply([text("REPORT")])
    if turn > 0:
        return Reply([text(f"{task_id(req)} done")])
    if task_id(req) == "a":
        return Reply(
            [
                tool_use("write_file", path="mod.py", content="VALUE = 42\n"),
                tool_use("write_file", path="util.py", content="HELP = 1\n"),
            ]
        )
    return Reply(
        [
            tool_use("write_file", path="test_mod.py", content=TEST),
            tool_use("run_tests", path="test_mod.py"),
        ]
    )


def who(req: ModelRequest) -> str:
    """'lead:N' or 'TASK:N': which conversation a request belongs to, at which turn."""
    name = "lead" if role(req) == "lead" else task_id(req)
    return f"{name}:{req.turn}"


class Holding:
    """The script, except that on the request ``at`` it SIGKILLs the run's process group
    (while that request is in flight: the run is exactly there)."""

    def __init__(self, at: str | None) -> None:
        self.at = at
        self.group: int | None = None
        self.started = threading.Event()  # ``group`` is set
        self.reached = threading.Event()

    def __call__(self, req: ModelRequest) -> Response:
        if who(req) == self.at and self.started.wait(60) and self.group is not None:
            os.killpg(self.group, signal.SIGKILL)
            self.reached.set()
        return reply(req)


@dataclass
class Outcome:
    run_id: str
    files: dict[str, str]
    bases: dict[str, str]  # task -> base snapshot name (its content digest)
    record: dict[str, Any]


def files(ws: Path) -> dict[str, str]:
    skip = ("__pycache__", ".pytest_cache")
    return {
        p.relative_to(ws).as_posix(): p.read_text()
        for p in sorted(ws.rglob("*"))
        if p.is_file() and not any(s in p.parts for s in skip)
    }


def outcome(db: Path, ws: Path, run_id: str) -> Outcome:
    store = Store(db)
    record = store.get_run(run_id)
    store.close()
    assert record is not None
    bases = {t["id"]: Path(t["base"]).name for t in record["tasks"] if t["base"]}
    return Outcome(run_id, files(ws), bases, record)


def cli(tmp: Path, *args: str) -> list[str]:
    db = tmp / "runs.db"
    return [
        sys.executable,
        "-m",
        "codeteam",
        "run",
        *args,
        "--db",
        str(db),
        "--json",
        "--mcp-server",
        mini_server(),
    ]


def first_run_id(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return str(json.loads(line)["run_id"])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    tmp = tmp_path_factory.mktemp("whole")
    ws = tmp / "ws"
    with FakeAnthropic(reply) as fake:
        done = subprocess.run(
            [*cli(tmp, "build it", "--workspace", str(ws))],
            env=env(fake, tmp),
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout.splitlines()[0])["run_id"]
    yield outcome(tmp / "runs.db", ws, run_id)


#: (where the first run is killed, the tasks the resumed run must run again)
KILL_POINTS = [
    ("hold:a:0", {"a", "b"}),  # a started, before its first model answer
    ("hold:a:1", {"a", "b"}),  # a wrote its files in its copy, not finished
    ("point:merge:a", {"b"}),  # a's outcome recorded, its merge not yet applied
    ("point:merging:a", {"b"}),  # a's merge half applied (one of two files)
    ("point:merged:a", {"b"}),  # a's merge applied, not yet marked done
    ("hold:b:0", {"b"}),  # a merged and recorded; b started, before its first tool call
    ("hold:b:1", {"b"}),  # b wrote and ran its test in its copy, not finished
    ("point:merging:b", set()),  # b's merge half applied
    ("hold:lead:1", set()),  # every task done, the lead about to write its report
]


@pytest.mark.parametrize(("kill", "rerun"), KILL_POINTS, ids=[k for k, _ in KILL_POINTS])
def test_a_run_killed_at_any_phase_resumes_to_the_uninterrupted_result(
    tmp_path: Path, uninterrupted: Outcome, kill: str, rerun: set[str]
) -> None:
    ws = tmp_path / "ws"
    how, _, at = kill.partition(":")
    holding = Holding(at if how == "hold" else None)
    with FakeAnthropic(holding) as fake:
        run_env = env(fake, tmp_path)
        if how == "point":
            run_env["CODETEAM_TEST_KILL_AT"] = at
        proc = subprocess.Popen(
            cli(tmp_path, "build it", "--workspace", str(ws)),
            env=run_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        holding.group = proc.pid
        holding.started.set()
        try:
            run_id = first_run_id(proc)
            assert proc.wait(120) == -signal.SIGKILL
            assert holding.reached.is_set() == (how == "hold")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()
    killed = outcome(tmp_path / "runs.db", ws, run_id)
    assert killed.record["status"] == "interrupted"  # its process is gone

    with FakeAnthropic(reply) as fake2:
        resumed = subprocess.run(
            cli(tmp_path, "--resume", run_id),
            env=env(fake2, tmp_path),
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout[-2000:]
    after = outcome(tmp_path / "runs.db", ws, run_id)
    assert after.record["status"] == "completed"
    assert after.files == uninterrupted.files
    assert after.bases == uninterrupted.bases
    assert {t["id"]: t["status"] for t in after.record["tasks"]} == {"a": "ok", "b": "ok"}
    assert after.record["conflicts"] == []  # no merge was applied twice
    assert {p.name for p in ws.iterdir()}.isdisjoint({".mod.py.merge-tmp"})
    again = {task_id(ModelRequest(c.body)) for c in fake2.calls}
    assert again - {""} == rerun  # "" is the lead
    run_dir = tmp_path / "runs" / run_id
    assert not run_dir.exists()  # copies and bases cleaned up once the run ended
