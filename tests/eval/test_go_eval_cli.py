"""``codeteam eval go`` as a user runs it: the fake Messages API answering as a solver that
writes each task's canonical answer, its plausible wrong answer, or nothing; the real
harness, MCP sessions, sandbox and SQLite file. No request may carry a hidden test."""

from __future__ import annotations

from pathlib import Path

from codeteam.eval.go import GoDataset
from tests.eval.conftest import MODEL, db_rows, env, events, run, strings
from tests.eval.solver import problem_of, solver
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Response

TASKS = GoDataset().tasks
WRONG = {"ttl-cache", "speedup-primes", "semver"}  # answered with the plausible wrong answer
UNCHANGED = {"bank-transfer", "speedup-dedupe"}  # the stub left as given


def hidden_lines() -> list[str]:
    """Each hidden test's signature lines, and the baseline copies' names."""
    return [
        line.strip()
        for task in TASKS.values()
        for body in task.hidden.values()
        for line in body.decode().splitlines()
        if line.startswith(("func Test", "func Benchmark", "func baseline"))
    ]


def test_eval_go_scores_canonical_answers_and_catches_wrong_and_unchanged(
    tmp_path: Path,
) -> None:
    answers = {kind: solver(kind, "go") for kind in ("canonical", "wrong", "unchanged")}

    def script(req: ModelRequest) -> Response:
        pid = problem_of(req.first_text, "go")
        kind = "wrong" if pid in WRONG else "unchanged" if pid in UNCHANGED else "canonical"
        return answers[kind](req)

    with FakeAnthropic(script) as fake:
        done = run(
            ["eval", "go", "--db", str(tmp_path / "runs.db"), "--model", MODEL, "--json",
             "--mode", "single", "--max-parallel", "4"],
            env(tmp_path, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake.url),
            600,
        )  # fmt: skip
        bodies = [r.body for r in fake.calls]
    assert done.returncode == 0, done.stderr
    last = events(done.stdout)[-1]
    assert last["event"] == "eval_finished" and last["status"] == "completed", last
    assert last["total"] == len(TASKS) >= 20
    rows = {
        r["problem_id"]: r
        for r in db_rows(
            tmp_path / "runs.db", "SELECT * FROM eval_problems WHERE eval_id = ?", last["eval_id"]
        )
    }
    failed = {pid for pid, r in rows.items() if not r["passed"]}
    assert failed == WRONG | UNCHANGED, {pid: rows[pid]["reason"] for pid in failed}
    assert last["passed"] == len(TASKS) - len(WRONG | UNCHANGED)
    assert "needs 5x" in str(rows["speedup-dedupe"]["reason"])  # the given code is too slow
    assert str(rows["semver"]["reason"]).startswith("hidden tests failed")
    secrets = hidden_lines()
    for body in bodies:
        text = "\n".join(strings(body))
        assert not [s for s in secrets if s in text], "a request carried a hidden test"
