"""``codeteam eval`` / ``codeteam evals`` as a user runs them: real processes, the fake
model APIs on loopback answering as solvers, real MCP sessions, the real sandbox and a
real SQLite file."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.eval.conftest import (
    MODEL,
    assert_no_hidden_tests,
    codeteam,
    db_rows,
    env,
    events,
    run,
)
from tests.eval.solver import chat_solver, problem_of, solver
from tests.team.conftest import closed_port
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Response
from tests.team.fake_openai import FakeOpenAI


def _eval(
    tmp: Path, url: str, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return run(
        ["eval", "humaneval", "--db", str(tmp / "runs.db"), "--model", MODEL, "--json", *args],
        env(tmp, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=url),
        timeout,
    )


def _scored(tmp: Path, eval_id: str) -> dict[str, dict[str, object]]:
    rows = db_rows(tmp / "runs.db", "SELECT * FROM eval_problems WHERE eval_id = ?", eval_id)
    return {r["problem_id"]: r for r in rows}


def test_canonical_solver_scores_all_164_and_no_request_holds_a_hidden_test(
    tmp_path: Path,
) -> None:
    with FakeAnthropic(solver("canonical")) as fake:
        done = _eval(tmp_path, fake.url, "--mode", "single", "--max-parallel", "8")
        bodies = [r.body for r in fake.calls]
    assert done.returncode == 0, done.stderr
    last = events(done.stdout)[-1]
    assert last["event"] == "eval_finished" and last["status"] == "completed"
    assert (last["passed"], last["total"]) == (164, 164)
    rows = _scored(tmp_path, last["eval_id"])
    assert len(rows) == 164 and all(r["passed"] for r in rows.values())
    assert all(r["model_calls"] == 2 and r["tool_calls"] == 1 for r in rows.values())
    assert all(r["cost_usd"] > 0 and r["input_tokens"] == 200 for r in rows.values())
    assert len(bodies) == 2 * 164
    assert_no_hidden_tests(bodies)


def test_unchanged_prompt_scores_zero_and_wrong_answers_are_caught(tmp_path: Path) -> None:
    unchanged, wrong = solver("unchanged"), solver("wrong")

    def mixed(req: ModelRequest) -> Response:  # problems 0, 1 left as given; 2, 3 off by one
        n = int(problem_of(req.first_text).split("/")[1])
        return unchanged(req) if n < 2 else wrong(req)

    with FakeAnthropic(mixed) as fake:
        done = _eval(tmp_path, fake.url, "--limit", "4", "--mode", "single")
        assert_no_hidden_tests([r.body for r in fake.calls])
    assert done.returncode == 0, done.stderr
    last = events(done.stdout)[-1]
    assert (last["passed"], last["scored"]) == (0, 4)
    rows = _scored(tmp_path, last["eval_id"])
    assert all(str(r["reason"]).startswith("hidden tests failed") for r in rows.values())
    assert [rows[f"HumanEval/{n}"]["tool_calls"] for n in range(4)] == [0, 0, 1, 1]


def test_team_and_single_records_compare_side_by_side(tmp_path: Path) -> None:
    problems = "HumanEval/2,HumanEval/7"
    ids = {}
    requests = []
    for mode in ("team", "single"):
        kind = "canonical" if mode == "team" else "wrong"
        with FakeAnthropic(solver(kind)) as fake:
            done = _eval(tmp_path, fake.url, "--problems", problems, "--mode", mode)
            requests += [r.body for r in fake.calls]
        assert done.returncode == 0, done.stderr
        ids[mode] = events(done.stdout)[0]["eval_id"]
    assert_no_hidden_tests(requests)
    team, single = _scored(tmp_path, ids["team"]), _scored(tmp_path, ids["single"])
    assert set(team) == set(single) == set(problems.split(","))
    for pid in team:  # the team: lead (2 calls) and one code agent (2 calls)
        assert team[pid]["passed"] and not single[pid]["passed"]
        assert team[pid]["model_calls"] == 4 and single[pid]["model_calls"] == 2
        assert team[pid]["cost_usd"] > single[pid]["cost_usd"] > 0
    db = str(tmp_path / "runs.db")
    shown = run(["runs", "--db", db, "show", str(team["HumanEval/7"]["run_id"])], env(tmp_path))
    assert shown.returncode == 0 and "Problem HumanEval/7" in shown.stdout
    compared = run(["evals", "--db", db, "compare", ids["team"], ids["single"]], env(tmp_path))
    assert compared.returncode == 0, compared.stderr
    out = compared.stdout
    assert "team" in out and "single" in out and "100.0% (2)" in out and "0.0% (0)" in out
    assert f"solved by {ids['team']} (team) only: HumanEval/2, HumanEval/7" in out
    assert f"solved by {ids['single']} (single) only: none" in out
    listing = run(["evals", "--db", db], env(tmp_path))
    assert ids["team"] in listing.stdout and ids["single"] in listing.stdout
    shown = run(
        ["evals", "--db", db, "show", ids["single"][:12] + ids["single"][12:]], env(tmp_path)
    )
    assert "HumanEval/2" in shown.stdout and "hidden tests failed" in shown.stdout


def test_openai_compatible_endpoint_scores_the_same(tmp_path: Path) -> None:
    with FakeOpenAI(chat_solver("canonical")) as fake:
        done = run(
            [
                "eval", "humaneval", "--limit", "2", "--mode", "team", "--provider", "openai",
                "--base-url", f"{fake.url}/v1", "--model", "gpt-4o", "--json",
                "--db", str(tmp_path / "runs.db"),
            ],
            env(tmp_path, OPENAI_API_KEY="k"),
        )  # fmt: skip
        bodies = [r.body for r in fake.requests]
    assert done.returncode == 0, done.stderr
    assert events(done.stdout)[-1]["passed"] == 2
    assert_no_hidden_tests(bodies)


def test_bad_input_is_one_line_exit_2_and_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    bad_replay = tmp_path / "replay"
    bad_replay.mkdir()
    (bad_replay / "manifest.json").write_text("{not json")
    url = f"http://127.0.0.1:{closed_port()}"
    cases = [
        (["eval", "nosuch"], {"ANTHROPIC_API_KEY": "k"}, "unknown dataset 'nosuch'"),
        (
            ["eval", "humaneval", "--problems", "HumanEval/0,HumanEval/999"],
            {"ANTHROPIC_API_KEY": "k"},
            "unknown problem id(s) 'HumanEval/999'",
        ),
        (["eval", "humaneval", "--limit", "1"], {}, "ANTHROPIC_API_KEY"),
        (
            ["eval", "humaneval", "--limit", "1"],
            {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": url},
            "cannot reach the model endpoint",
        ),
        (["eval", "humaneval", "--replay", str(bad_replay)], {}, "not a usable recording"),
        (["eval", "humaneval", "--replay", str(tmp_path / "none")], {}, "no manifest.json"),
        (["eval", "--resume", "e999"], {}, "no eval 'e999'"),
    ]
    for args, extra, says in cases:
        done = run([*args, "--db", str(db)], env(tmp_path, **extra), timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
        assert done.stdout == ""
    assert db_rows(db, "SELECT * FROM evals") == []


def test_interrupted_eval_resumes_without_scoring_a_problem_twice(tmp_path: Path) -> None:
    asked: list[str] = []
    canonical = solver("canonical")

    def slow(req: ModelRequest) -> Response:
        reply = canonical(req)
        asked.append(problem_of(req.first_text))
        reply.delay = 0.1  # type: ignore[union-attr]
        return reply

    db = str(tmp_path / "runs.db")
    args = ["eval", "humaneval", "--limit", "4", "--mode", "single", "--max-parallel", "1"]
    with FakeAnthropic(slow) as fake:
        environ = env(tmp_path, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake.url)
        proc = subprocess.Popen(
            codeteam(*args, "--db", db, "--model", MODEL, "--json"),
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.count('"problem_scored"') and sum('"problem_scored"' in x for x in seen) == 2:
                proc.send_signal(signal.SIGINT)
                break
        rest, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        first = events("".join(seen) + rest)
        eval_id = first[0]["eval_id"]
        before = _scored(tmp_path, eval_id)
        status = db_rows(tmp_path / "runs.db", "SELECT status FROM evals")[0]["status"]
        assert status == "interrupted" and 2 <= len(before) < 4
        listed = run(["evals", "--db", db], environ)
        assert "interrupted" in listed.stdout
        asked.clear()
        again = run(["eval", "--resume", eval_id[:10], "--db", db, "--json"], environ)
    assert again.returncode == 0, again.stderr
    after = _scored(tmp_path, eval_id)
    assert len(after) == 4 and all(r["passed"] for r in after.values())
    for pid, row in before.items():  # kept as scored, never asked about again
        assert after[pid] == row and pid not in asked
    resumed = events(again.stdout)
    assert resumed[0]["resumed"] and resumed[0]["scored"] == len(before)
    assert sum(e["event"] == "problem_scored" for e in resumed) == 4 - len(before)


def test_replay_gives_the_recorded_scores_with_no_network(tmp_path: Path) -> None:
    record = tmp_path / "rec"
    canonical, wrong = solver("canonical"), solver("wrong")

    def mixed(req: ModelRequest) -> Response:  # odd problems right, even ones wrong
        n = int(problem_of(req.first_text).split("/")[1])
        return canonical(req) if n % 2 else wrong(req)

    with FakeAnthropic(mixed) as fake:
        done = _eval(tmp_path, fake.url, "--limit", "2", "--mode", "team", "--record", str(record))
    assert done.returncode == 0, done.stderr
    recorded = _scored(tmp_path, events(done.stdout)[0]["eval_id"])
    # No fake running, no key, an endpoint nothing listens at: replay needs none of them.
    replayed_run = run(
        ["eval", "humaneval", "--limit", "2", "--mode", "team", "--replay", str(record),
         "--db", str(tmp_path / "runs.db"), "--json"],
        env(tmp_path, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{closed_port()}"),
    )  # fmt: skip
    assert replayed_run.returncode == 0, replayed_run.stderr
    replayed = _scored(tmp_path, events(replayed_run.stdout)[0]["eval_id"])
    keys = ("passed", "reason", "input_tokens", "output_tokens", "model_calls", "tool_calls")
    assert {p: [r[k] for k in keys] for p, r in replayed.items()} == {
        p: [r[k] for k in keys] for p, r in recorded.items()
    }
    assert [r["passed"] for r in recorded.values()].count(1) == 1


def test_max_cost_covers_the_whole_eval(tmp_path: Path) -> None:
    """$0.0012 a problem (two calls of 100 in / 20 out at $3/$15 per MTok) against a
    $0.0015 cap: the second problem is stopped by it mid-way, the third never runs."""
    with FakeAnthropic(solver("canonical")) as fake:
        done = _eval(
            tmp_path, fake.url, "--limit", "3", "--mode", "single", "--max-parallel", "1",
            "--max-cost", "0.0015",
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    last = events(done.stdout)[-1]
    assert last["status"] == "stopped" and last["passed"] == 1
    rows = _scored(tmp_path, last["eval_id"])
    assert rows["HumanEval/0"]["passed"]
    assert str(rows["HumanEval/1"]["reason"]).startswith("stopped by a limit: cost")
    assert rows["HumanEval/2"]["reason"] == "not run: the eval's cost cap (--max-cost) was reached"
    assert rows["HumanEval/2"]["model_calls"] == 0
    assert sum(r["cost_usd"] for r in rows.values()) <= 0.0015 + 0.0006 + 1e-9


def test_a_problem_whose_agent_times_out_counts_as_failed_with_the_reason(tmp_path: Path) -> None:
    canonical = solver("canonical")

    def slow(req: ModelRequest) -> Response:
        reply = canonical(req)
        reply.delay = 5.0  # type: ignore[union-attr]
        return reply

    with FakeAnthropic(slow) as fake:
        done = _eval(tmp_path, fake.url, "--limit", "1", "--mode", "single", "--task-timeout", "1")
    assert done.returncode == 0, done.stderr
    (row,) = _scored(tmp_path, events(done.stdout)[-1]["eval_id"]).values()
    assert not row["passed"] and "timed out after 1 s" in str(row["reason"])
