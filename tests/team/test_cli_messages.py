"""What ``codeteam run`` / ``runs`` say, read as a user reads them: real processes with
output piped (not a terminal) or a forced 80-column terminal, the fake Messages API, a real
SQLite store."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from codeteam.store import ModelCall, Store
from codeteam.team.workspace import Conflict, MergeResult
from tests.team.conftest import closed_port, mini_server, role, task_id
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_cli import codeteam, env

#: rich's escape sequences, for output of a forced terminal
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: an 80-column terminal as rich sees it
TERMINAL_80 = {"TTY_COMPATIBLE": "1", "COLUMNS": "80", "LINES": "40"}


def cli(*args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        codeteam(*args), env=env(**extra), capture_output=True, text=True, timeout=timeout
    )


def team_run(fake: FakeAnthropic, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "run",
        *args,
        "--workspace",
        str(tmp_path / "ws"),
        "--db",
        str(tmp_path / "runs.db"),
        "--mcp-server",
        mini_server(),
        ANTHROPIC_API_KEY="k",
        ANTHROPIC_BASE_URL=fake.url,
        CODETEAM_MODEL="claude-test",
        CODETEAM_RUN_DIR=str(tmp_path / "runs"),
    )


def test_a_blank_request_is_refused_in_one_line_like_an_empty_one(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    for request in ("", "   \n\t "):
        done = cli("run", request, "--db", str(db), ANTHROPIC_API_KEY="k")
        assert done.returncode == 2 and done.stdout == ""
        assert (
            done.stderr == 'codeteam: say what to build: codeteam run "REQUEST" (or --resume ID)\n'
        )
    assert not db.exists()  # nothing was started, nothing recorded


def test_an_unreachable_endpoint_fails_at_once_in_one_line_and_is_recorded_failed(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    db = tmp_path / "runs.db"
    done = cli(
        "run",
        "write hello.py",
        "--workspace",
        str(tmp_path / "ws"),
        "--db",
        str(db),
        "--mcp-server",
        mini_server(),
        ANTHROPIC_API_KEY="k",
        ANTHROPIC_BASE_URL=url,
        CODETEAM_RUN_DIR=str(tmp_path / "runs"),
    )
    assert done.returncode == 1
    assert done.stdout.strip() == ""  # no empty table, no "lead tokens 0", no "(no report)"
    store = Store(db)
    run = store.get_run(store.list_runs()[0]["id"])
    store.close()
    assert run is not None and run["status"] == "failed"
    message = (
        f"cannot reach the model endpoint {url} (connection refused): "
        "check --base-url / ANTHROPIC_BASE_URL"
    )
    assert done.stderr == f"codeteam: run {run['id']} failed: {message}\n"
    assert run["error"] == message
    # One attempt, not seconds of retries (the SDK's own would take about 8 s).
    [call] = run["model_calls"]
    assert call["error"] == message and call["latency_ms"] < 3000


def _cost_script(req: ModelRequest) -> Response:
    if role(req) == "lead":
        return Reply([tool_use("assign_task", id="w", agent="code", description="write")])
    return Reply([tool_use("list_files", path=f"d{req.turn}")])


def test_the_cost_cap_message_gives_spend_and_cap_with_their_digits_in_order(
    tmp_path: Path,
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"claude-test": {"input": 3, "output": 15}}))
    with FakeAnthropic(_cost_script) as fake:
        done = team_run(fake, tmp_path, "x", "--max-cost", "0.000001", "--prices", str(prices))
    # The lead's one call: 100 input and 20 output tokens = $0.0006; then the cap refuses.
    message = "run cost cap reached: spent $0.0006 of a $0.000001 cap (--max-cost)"
    assert done.returncode == 1
    assert f"stopped: {message}\n" in done.stdout, done.stdout


def _rejecting_lead(req: ModelRequest) -> Response:
    if role(req) == "lead":
        if req.turn == 0:
            twice = tool_use("assign_task", id="w", agent="code", description="write")
            wizard = tool_use("assign_task", id="z", agent="wizard", description="magic")
            return Reply([twice, dict(twice, id="toolu_again"), wizard])
        if req.turn == 1:
            return Reply([tool_use("assign_task", id="w", agent="code", description="write")])
        return Reply([text("REPORT")])
    return Reply([text(f"{task_id(req)} done")])


def test_a_rejected_plan_is_shown_whole_not_cut_mid_sentence(tmp_path: Path) -> None:
    with FakeAnthropic(_rejecting_lead) as fake:
        done = team_run(fake, tmp_path, "x")
        second = [ModelRequest(c.body) for c in fake.calls][1]
    assert done.returncode == 0, done.stderr
    errors = [
        r["content"]
        for r in second.messages[-1]["content"]
        if r["is_error"] and not r["content"].startswith("not run")
    ]
    assert len(errors) == 2 and any(e.endswith("give every task its own id") for e in errors)
    # Every word of every problem, on one line (piped output is not wrapped).
    line = next(x for x in done.stdout.splitlines() if x.startswith("plan rejected: "))
    assert all(e in line for e in errors)
    assert len(line.strip()) == len("plan rejected: " + "; ".join(errors))


LONG_TASK = "implement-the-cache-structure-with-ttl-expiry"


def _seed(db: Path) -> list[str]:
    """Three runs recorded as a team run leaves them; the first with tasks on copies, a
    long task name, a merge and a conflict."""
    store = Store(db)
    ids = [
        store.create_run(f"request {n} " + "word " * 30, "/ws", "anthropic", "claude-test")
        for n in range(3)
    ]
    run = ids[0]
    store.set_run_state(run, run_dir="/var/tmp/r/" + run)
    store.add_task(run, LONG_TASK, "code", "write the cache", [])
    store.add_task(run, "t", "test", "test it", [LONG_TASK])
    store.set_task_base(run, LONG_TASK, f"/var/tmp/r/{run}/bases/3f2a9c0d")
    store.set_task_base(run, "t", f"/var/tmp/r/{run}/bases/b71e04aa")
    wrote = MergeResult(applied=["cache.py", "util.py"])
    store.finish_task(run, LONG_TASK, "ok", result=f"wrote it\n[{wrote.describe()}]")
    clash = Conflict("cache.py", "cache.py.conflict-t", "changed by another task and by t")
    store.record_conflict(run, "t", clash.path, clash.other, clash.detail)
    both = MergeResult(applied=["test_cache.py"], conflicts=[clash])
    store.finish_task(run, "t", "ok", result=f"tested\n[{both.describe()}]")
    call = ModelCall("claude-test", 10, 5, 0, 0, 12.0, "end_turn")
    store.record_model_call(run, LONG_TASK, call, 1.0)
    store.finish_run(run, "completed", "REPORT")
    store.close()
    return ids


def _unique_prefix(target: str, others: list[str]) -> str:
    n = 1
    while any(o.startswith(target[:n]) for o in others if o != target):
        n += 1
    return target[:n]


def test_runs_never_cut_ids_or_task_names_piped_or_in_an_80_column_terminal(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    ids = _seed(db)
    for extra in ({}, TERMINAL_80):
        listing = cli("runs", "--db", str(db), **extra)
        shown = cli("runs", "--db", str(db), "show", ids[0], **extra)
        assert listing.returncode == 0 and shown.returncode == 0
        out = ANSI.sub("", listing.stdout)
        assert all(i in out for i in ids), out
        assert "…" not in out.replace("word …", "")  # only the request is shortened
        detail = ANSI.sub("", shown.stdout)
        assert f"- {LONG_TASK} [code] ok" in detail
        assert re.search(rf"│ model\s+│ {LONG_TASK} ", detail), detail
    assert max(len(x) for x in ANSI.sub("", listing.stdout).splitlines()) <= 80


def test_runs_show_and_resume_take_any_unique_prefix_and_name_the_matches_of_an_ambiguous_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    ids = _seed(db)
    prefix = _unique_prefix(ids[1], ids)
    shown = cli("runs", "--db", str(db), "show", prefix)
    assert shown.returncode == 0 and f"run {ids[1]} running" in shown.stdout
    done = cli(
        "run", "--resume", _unique_prefix(ids[0], ids), "--db", str(db), ANTHROPIC_API_KEY="k"
    )
    assert done.returncode == 2
    assert done.stderr == f"codeteam: run {ids[0]} already completed: nothing to resume\n"
    common = ids[0][:9]  # the date: shared by all three
    for args in (
        ("runs", "--db", str(db), "show", common),
        ("run", "--resume", common, "--db", str(db)),
    ):
        done = cli(*args, ANTHROPIC_API_KEY="k")
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert done.stderr.startswith(f"codeteam: {common!r} matches several runs (")
        assert all(i in done.stderr for i in ids)
    missing = cli("runs", "--db", str(db), "show", "nope")
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_runs_show_says_which_copy_each_task_started_from_and_what_it_merged_back(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    ids = _seed(db)
    shown = cli("runs", "--db", str(db), "show", ids[0])
    lines = [x.strip() for x in shown.stdout.splitlines()]
    assert ("started from bases/3f2a9c0d; merged 2 changed file(s): cache.py, util.py") in lines
    assert (
        f"started from bases/b71e04aa (with {LONG_TASK} merged); "
        "merged 1 changed file(s): test_cache.py; "
        "conflict cache.py (its version kept as cache.py.conflict-t)"
    ) in lines


def _chain(req: ModelRequest) -> Response:
    if role(req) == "lead":
        if req.turn == 0:
            return Reply(
                [
                    tool_use("assign_task", id="a", agent="code", description="write a"),
                    tool_use(
                        "assign_task", id="b", agent="code", description="b", depends_on=["a"]
                    ),
                ]
            )
        return Reply([text("REPORT")])
    tid = task_id(req)
    if req.turn == 0:
        return Reply([tool_use("write_file", path=f"{tid}.txt", content=tid)])
    return Reply([text(f"wrote {tid}.txt")])


def test_runs_show_of_a_real_run_names_each_tasks_base_and_merged_files(tmp_path: Path) -> None:
    with FakeAnthropic(_chain) as fake:
        done = team_run(fake, tmp_path, "write a and b", "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout.splitlines()[0])["run_id"]
    shown = cli("runs", "--db", str(tmp_path / "runs.db"), "show", run_id)
    copies = [x.strip() for x in shown.stdout.splitlines() if "started from" in x]
    assert len(copies) == 2, shown.stdout
    a, b = copies
    assert a.endswith("; merged 1 changed file(s): a.txt") and b.endswith("file(s): b.txt")
    base = re.compile(r"started from (bases/\S+)")
    base_a, base_b = (base.match(x) for x in (a, b))
    assert base_a and base_b and base_a.group(1) != base_b.group(1)  # b started after a merged
