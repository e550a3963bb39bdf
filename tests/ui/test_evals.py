"""The eval pages over evals recorded by real ``codeteam eval`` runs (the fake Messages
API solving as the eval tests' solver does): list, one eval, two compared, each problem's
run one click away."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eval.conftest import MODEL, env, run
from tests.eval.solver import solver
from tests.team.fake_anthropic import FakeAnthropic
from tests.ui.conftest import Tab, Ui, start_ui, stop_ui, workspace_dir

PROBLEM = "HumanEval/7"


@pytest.fixture(scope="module")
def evals() -> Iterator[tuple[Ui, dict[str, str]]]:
    root = workspace_dir()
    db = root / "runs.db"
    ids = {}
    for mode, kind in (("team", "canonical"), ("single", "wrong")):
        with FakeAnthropic(solver(kind)) as fake:
            done = run(
                [
                    *("eval", "humaneval", "--db", str(db), "--model", MODEL, "--json"),
                    *("--problems", PROBLEM, "--mode", mode),
                ],
                env(root, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=fake.url),
            )
        assert done.returncode == 0, done.stderr
        ids[mode] = json.loads(done.stdout.splitlines()[0])["eval_id"]
    ui = start_ui(Path(db))
    yield ui, ids
    stop_ui(ui)
    shutil.rmtree(root, ignore_errors=True)


def test_evals_list_one_eval_and_compare(evals: tuple[Ui, dict[str, str]], tab: Tab) -> None:
    ui, ids = evals
    page = tab.page
    page.goto(ui.url + "/evals")
    for mode, eval_id in ids.items():
        row = page.locator(f"tr[data-eval='{eval_id}']")
        assert mode in row.inner_text() and "1/1" in row.inner_text()
    assert "100.0% (1)" in page.locator(f"tr[data-eval='{ids['team']}']").inner_text()
    tab.shot("evals")
    page.locator(f"tr[data-eval='{ids['single']}'] a").click()
    page.wait_for_url(f"**/evals/{ids['single']}")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 1
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.passed)")) == {"no"}
    assert "hidden tests failed" in rows.first.inner_text()
    tab.shot("eval")
    page.goto(ui.url + "/evals")
    page.select_option("select[name=a]", ids["team"])
    page.select_option("select[name=b]", ids["single"])
    page.locator("form.compare button").click()
    page.wait_for_url("**/evals/compare?*")
    assert PROBLEM in page.locator("#only-a").inner_text()
    assert "none" in page.locator("#only-b").inner_text()
    assert "100.0% (1)" in page.locator("#compare-stats").inner_text()
    tab.shot("compare")
    # a problem's team run is one click away, on its run page
    page.goto(f"{ui.url}/evals/{ids['team']}")
    page.locator(f"tr[data-problem='{PROBLEM}'] a").click()
    page.wait_for_url("**/runs/*")
    assert PROBLEM in page.locator("p.request").inner_text()
    page.locator("#graph svg a.node").first.wait_for()
