"""``codeteam eval --executor ray``: the eval's servers (the agents' and the scorer's) run
their sandboxes on a real Ray cluster and score as a local eval does."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tests.cluster.raycluster import RayCluster
from tests.eval.conftest import MODEL, db_rows, env, events, run
from tests.eval.solver import problem_of, solver
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Response


def _ray_drivers(token: str, seen: set[int], stop: threading.Event) -> None:
    """Collect the pids of cluster agents (a server's Ray driver) that hold this cluster's
    token, until ``stop``."""
    while not stop.wait(0.1):
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"codeteam.cluster.agent" not in argv:
                    continue
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RAY_AUTH_TOKEN={token}".encode() in environ:
                seen.add(int(pid))


def test_an_eval_on_the_cluster_scores_as_a_local_one(cluster: RayCluster, tmp_path: Path) -> None:
    canonical, wrong = solver("canonical"), solver("wrong")

    def mixed(req: ModelRequest) -> Response:  # problems 0-2 right, 3-5 off by one
        n = int(problem_of(req.first_text).split("/")[1])
        return canonical(req) if n < 3 else wrong(req)

    environ = env(
        tmp_path, ANTHROPIC_API_KEY="k", CODETEAM_RAY_ADDRESS=cluster.address,
        **{k: v for k, v in cluster.env.items() if k.startswith("RAY_")},
    )  # fmt: skip
    drivers: set[int] = set()
    stop = threading.Event()
    sampler = threading.Thread(target=_ray_drivers, args=(cluster.token, drivers, stop))
    sampler.start()
    try:
        with FakeAnthropic(mixed) as fake:
            done = run(
                ["eval", "humaneval", "--db", str(tmp_path / "runs.db"), "--model", MODEL,
                 "--json", "--limit", "6", "--mode", "single", "--max-parallel", "3",
                 "--executor", "ray"],
                {**environ, "ANTHROPIC_BASE_URL": fake.url},
                timeout=600,
            )  # fmt: skip
    finally:
        stop.set()
        sampler.join()
    assert done.returncode == 0, done.stderr
    last = events(done.stdout)[-1]
    assert (last["status"], last["passed"], last["scored"]) == ("completed", 3, 6), last
    rows = db_rows(tmp_path / "runs.db", "SELECT * FROM eval_problems")
    passed = sorted(r["problem_id"] for r in rows if r["passed"])
    assert passed == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    failed = [r for r in rows if not r["passed"]]
    assert all(str(r["reason"]).startswith("hidden tests failed") for r in failed), failed
    # the scorer's server and each problem's agent server: a Ray driver each
    assert len(drivers) >= 2, drivers
