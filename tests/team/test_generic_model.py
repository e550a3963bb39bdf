"""``codeteam run`` driven by a generic fake model that knows nothing of our prompts.

The model sees only the tools offered (names and input schemas) and the conversation, and
acts like a weak model would: calls 1-3 tools with arguments made from each schema
(sometimes an extra property or a wrong type, paths that try to leave the workspace), or
answers text, and after a few turns ends with text. Real CLI, real ``codeteam serve``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeteam.team.config import FINISHED
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response

# ------------------------------------------------------------------ the generic model

#: Words a model might say; some look like rich markup or format fields on purpose.
_WORDS = (
    "alpha",
    "beta",
    "cache",
    "ttl",
    "lock",
    "[bold]",
    "[/]",
    "{x}",
    "'q'",
    "`t`",
    "<b>",
    "ünï",
)
_CODE = (
    "print('hello from a generic model')\n",
    "import time\nfor i in range(3):\n    print(i * i)\n",
    "def f(x):\n    return x + 1\n\nassert f(1) == 2\nprint('ok')\n",
    'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n',
    "raise SystemExit(3)\n",
)
_ESCAPES = ("../escaped.txt", "/tmp/codeteam-generic-escape.txt", "../../etc/x", "a/../../out.txt")
_ESCAPE_MARKERS = ("/tmp/codeteam-generic-escape.txt",)


def _rng(seed: int, req: ModelRequest) -> random.Random:
    """Deterministic per conversation and turn, whatever order parallel calls arrive in."""
    key = f"{seed}|{req.system}|{req.first_text}|{req.turn}"
    return random.Random(hashlib.sha256(key.encode()).hexdigest())


def _string(rng: random.Random, name: str, schema: dict[str, Any]) -> str:
    low = name.lower()
    if "path" in low or "file" in low or "dir" in low:
        if rng.random() < 0.2:
            return rng.choice(_ESCAPES)
        return rng.choice(("main.py", "notes.txt", "src/app.py", "test_app.py", ".", "pkg"))
    if "code" in low or "content" in low or "source" in low:
        return rng.choice(_CODE)
    if low in ("id", "name") or low.endswith("_id"):
        return rng.choice(("t1", "t2", "impl", "tests", "review"))
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8)))


def _value(rng: random.Random, name: str, schema: dict[str, Any], depth: int = 0) -> Any:
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = rng.choice([k for k in kind if k != "null"] or ["null"])
    if kind == "string":
        return _string(rng, name, schema)
    if kind in ("integer", "number"):
        lo = schema.get("minimum", 0)
        hi = schema.get("maximum", lo + 20)
        n = rng.randint(int(lo), int(hi))
        return n if kind == "integer" else n + rng.choice((0.0, 0.5))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        items = schema.get("items", {"type": "string"})
        return [_value(rng, name, items, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "object" and depth < 2:
        return _arguments(rng, schema, depth + 1)
    return None


def _arguments(
    rng: random.Random, schema: dict[str, Any], depth: int = 0, mischief: float = 0.1
) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if name in required or rng.random() < 0.3:
            out[name] = _value(rng, name, sub, depth)
    if rng.random() < mischief:
        out["extra_" + rng.choice(("note", "reason", "verbose"))] = "weak models add these"
    if out and rng.random() < mischief:  # a wrong type, as weak models send
        victim = rng.choice(sorted(out))
        out[victim] = rng.choice((42, ["x"], {"k": "v"}, True, None))
    return out


def _use_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "toolu_01" + "".join(rng.choice(alphabet) for _ in range(22))


def tool_call(rng: random.Random, tool: dict[str, Any], mischief: float = 0.1) -> dict[str, Any]:
    """One ``tool_use`` block for ``tool`` (a request's tool definition)."""
    return {
        "type": "tool_use",
        "id": _use_id(rng),
        "name": tool["name"],
        "input": _arguments(rng, tool.get("input_schema", {}), mischief=mischief),
    }


def say(rng: random.Random) -> dict[str, Any]:
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 15)))
    return {"type": "text", "text": f"Done: {words}"}


@dataclass
class GenericModel:
    """A script for :class:`FakeAnthropic`: reacts only to the tools and the conversation."""

    seed: int
    max_turns: int = 3
    #: how often a call gets an unknown extra property, and how often a wrong type
    mischief: float = 0.1

    def __call__(self, req: ModelRequest) -> Response:
        rng = _rng(self.seed, req)
        tools: list[dict[str, Any]] = req.body.get("tools", [])
        last_turn = rng.randint(1, self.max_turns)
        if not tools or req.turn >= last_turn or rng.random() < 0.2:
            return Reply([say(rng)], stop_reason="end_turn", output_tokens=rng.randint(5, 50))
        content = [say(rng)] if rng.random() < 0.5 else []
        content += [
            tool_call(rng, rng.choice(tools), self.mischief) for _ in range(rng.randint(1, 3))
        ]
        return Reply(content, input_tokens=rng.randint(50, 500), output_tokens=rng.randint(5, 80))


# ------------------------------------------------------------------ running the CLI


def _env(fake: FakeAnthropic, tmp: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    return {
        **base,
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake.url,
        "CODETEAM_RUN_DIR": str(tmp / "runs"),
        "COLUMNS": "200",
    }


@dataclass
class CliRun:
    done: subprocess.CompletedProcess[str]
    record: dict[str, Any]
    shown: str
    requests: int
    rejections: list[str]
    seconds: float


def run_cli(
    tmp: Path, script: Callable[[ModelRequest], Response], *extra: str, request: str = "do it"
) -> CliRun:
    """``codeteam run`` against the default server, then ``codeteam runs show`` of it."""
    ws, db = tmp / "ws", tmp / "runs.db"
    ws.mkdir(exist_ok=True)
    fake = FakeAnthropic(script)
    with fake:
        started = time.monotonic()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "codeteam", "run", request, "--workspace", str(ws)),
                *("--db", str(db), "--max-turns", "3", "--max-parallel", "2", *extra),
            ],
            env=_env(fake, tmp),
            capture_output=True,
            text=True,
            timeout=90,
        )
        seconds = time.monotonic() - started
        requests, rejections = len(fake.calls), list(fake.rejections)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), (done.returncode, done.stderr)
    listed = subprocess.run(
        [sys.executable, "-m", "codeteam", "runs", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    run_id = json.loads(listed.stdout)[0]["id"]
    show = [sys.executable, "-m", "codeteam", "runs", "--db", str(db), "show", run_id]
    as_json = subprocess.run([*show, "--json"], capture_output=True, text=True, timeout=30)
    shown = subprocess.run(
        show, capture_output=True, text=True, timeout=30, env={**os.environ, "COLUMNS": "200"}
    )
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    return CliRun(done, json.loads(as_json.stdout), shown.stdout, requests, rejections, seconds)


def assert_consistent(run: CliRun, tmp: Path) -> None:
    """The records agree with what happened, and nothing was written outside the workspace."""
    rec = run.record
    assert rec["status"] in ("completed", "partial", "failed", "stopped")
    assert (run.done.returncode == 0) == (
        rec["status"] == "completed" and all(t["status"] == "ok" for t in rec["tasks"])
    )
    assert all(t["status"] in FINISHED for t in rec["tasks"]), rec["tasks"]
    assert run.rejections == [], run.rejections
    assert len(rec["model_calls"]) == run.requests
    assert f"run {rec['id']} {rec['status']}" in run.shown
    for t in rec["tasks"]:
        assert f"- {t['id']} [{t['agent']}] {t['status']}" in run.shown
    assert sorted(p.name for p in tmp.iterdir()) == ["runs", "runs.db", "ws"]
    assert list((tmp / "runs").iterdir()) == [], "the run's copies are cleaned up"
    assert not any(Path(p).exists() for p in _ESCAPE_MARKERS)


@pytest.fixture(autouse=True)
def _no_escape_marker() -> None:
    for p in _ESCAPE_MARKERS:
        Path(p).unlink(missing_ok=True)


# ------------------------------------------------------------------ tests


#: Seeds picked for variety: tasks all ok (1), a task at its turn limit beside ok ones
#: (7, 8), a lead that never plans validly (9), and a much sloppier model (31).
@pytest.mark.parametrize(("seed", "mischief"), [(1, 0.1), (7, 0.1), (8, 0.1), (9, 0.1), (31, 0.6)])
def test_generic_model_runs_end_with_consistent_records(
    tmp_path: Path, seed: int, mischief: float
) -> None:
    run = run_cli(tmp_path, GenericModel(seed, mischief=mischief), "--json")
    assert run.seconds < 60
    assert_consistent(run, tmp_path)
    events = [json.loads(line) for line in run.done.stdout.splitlines()]
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"


def test_generic_model_drives_the_live_table_without_breaking_it(tmp_path: Path) -> None:
    run = run_cli(tmp_path, GenericModel(5))
    assert_consistent(run, tmp_path)
    assert f"codeteam runs show {run.record['id']}" in run.done.stdout


def _lead(req: ModelRequest) -> bool:
    return [t["name"] for t in req.body.get("tools", [])] == ["assign_task"]


def _seeded(seed: int, lead: Callable[[random.Random, ModelRequest], Response | None]) -> Any:
    """The generic model, except where ``lead`` answers for the lead."""
    generic = GenericModel(seed)

    def script(req: ModelRequest) -> Response:
        if _lead(req):
            answer = lead(_rng(seed, req), req)
            if answer is not None:
                return answer
        return generic(req)

    return script


def _results(req: ModelRequest) -> list[dict[str, Any]]:
    return req.last_results if req.turn else []


def test_lead_answering_text_first_finishes_with_that_text_as_the_report(tmp_path: Path) -> None:
    answer = "Nothing to plan: the request is already satisfied."
    script = _seeded(6, lambda rng, req: Reply([{"type": "text", "text": answer}]))
    run = run_cli(tmp_path, script, "--json")
    assert run.done.returncode == 0
    assert run.record["report"] == answer and run.record["tasks"] == []
    assert_consistent(run, tmp_path)


def test_lead_calling_a_tool_other_than_assign_task_is_told_and_continues(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn == 0:
            use = {"type": "tool_use", "id": _use_id(rng), "name": "write_file", "input": {}}
            return Reply([use])
        seen.extend(_results(req))
        return Reply([{"type": "text", "text": "gave up"}]) if req.turn == 1 else None

    run = run_cli(tmp_path, _seeded(7, lead), "--json")
    assert seen and seen[0]["is_error"] and "only call assign_task" in seen[0]["content"]
    assert run.record["report"] == "gave up"
    assert_consistent(run, tmp_path)


def _assign(rng: random.Random, **inp: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": _use_id(rng), "name": "assign_task", "input": inp}


def test_task_depending_on_itself_is_rejected_with_the_reason(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn == 0:
            desc = "write main.py"
            return Reply([_assign(rng, id="a", agent="code", description=desc, depends_on=["a"])])
        seen.extend(_results(req))
        return Reply([{"type": "text", "text": "plan rejected"}])

    run = run_cli(tmp_path, _seeded(8, lead), "--json")
    assert seen[0]["is_error"] and "depends on itself" in seen[0]["content"]
    assert run.record["tasks"] == [] and run.done.returncode == 0
    assert_consistent(run, tmp_path)


def test_assign_task_with_extra_properties_is_rejected_then_revised(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn == 0:
            bad = _assign(rng, id="a", agent="code", description="x", priority="high", notes=[1])
            return Reply([bad])
        seen.extend(_results(req))
        if req.turn == 1:
            return Reply([_assign(rng, id="a", agent="code", description="write notes.txt")])
        return Reply([{"type": "text", "text": "final report"}])

    run = run_cli(tmp_path, _seeded(9, lead), "--json")
    assert seen[0]["is_error"] and "unknown field(s) notes, priority" in seen[0]["content"]
    assert [t["id"] for t in run.record["tasks"]] == ["a"]
    assert run.record["report"].startswith("final report")
    assert_consistent(run, tmp_path)


def test_specialist_repeating_one_failing_call_is_cut_off(tmp_path: Path) -> None:
    def script(req: ModelRequest) -> Response:
        rng = _rng(10, req)
        if _lead(req):
            if req.turn == 0:
                return Reply([_assign(rng, id="loop", agent="code", description="read it")])
            return Reply([{"type": "text", "text": "report"}])
        use = {"type": "tool_use", "id": _use_id(rng), "name": "read_file"}
        return Reply([{**use, "input": {"path": "does/not/exist.txt"}}])

    run = run_cli(tmp_path, script, "--json", "--max-turns", "10")
    assert run.done.returncode == 1
    (task,) = run.record["tasks"]
    assert task["status"] == "failed" and "stopped a loop" in task["error"]
    assert len([c for c in run.record["tool_calls"] if c["task_id"] == "loop"]) == 2
    assert [x["kind"] for x in run.record["limits"]] == ["repeat"]
    assert_consistent(run, tmp_path)


def test_assign_task_with_a_non_string_id_is_rejected_not_a_crash(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn == 0:
            odd = [_assign(rng, id=v, agent="code", description="x") for v in (["a"], {"k": 1})]
            return Reply(odd)
        seen.extend(_results(req))
        return Reply([{"type": "text", "text": "done"}])

    run = run_cli(tmp_path, _seeded(11, lead), "--json")
    assert [r["is_error"] for r in seen] == [True, True]
    assert all("'id' must be a non-empty string" in r["content"] for r in seen)
    assert run.record["status"] == "completed" and run.record["tasks"] == []
    assert_consistent(run, tmp_path)


def _bad(rng: random.Random) -> dict[str, Any]:
    return _assign(rng, id="x", agent="painter", description="paint")


def test_plan_attempts_count_invalid_plans_in_a_row_not_per_run(tmp_path: Path) -> None:
    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn in (0, 2, 3):
            return Reply([_bad(rng)])
        if req.turn == 1:
            return Reply([_assign(rng, id="a", agent="code", description="write notes.txt")])
        return Reply([{"type": "text", "text": "report after revisions"}])

    run = run_cli(tmp_path, _seeded(12, lead), "--json")
    assert run.record["status"] == "completed", run.record["error"]
    assert run.record["report"].startswith("report after revisions")
    assert_consistent(run, tmp_path)


def test_lead_giving_up_after_tasks_ran_still_reports_their_outcomes(tmp_path: Path) -> None:
    def lead(rng: random.Random, req: ModelRequest) -> Response | None:
        if req.turn == 0:
            return Reply([_assign(rng, id="a", agent="code", description="write notes.txt")])
        return Reply([_bad(rng)])

    run = run_cli(tmp_path, _seeded(13, lead), "--json")
    assert run.done.returncode == 1 and run.record["status"] == "failed"
    assert "3 invalid plans" in run.record["error"]
    (task,) = run.record["tasks"]
    assert f"Tasks:\n- a: {task['status']}" in run.record["report"]
    assert_consistent(run, tmp_path)
