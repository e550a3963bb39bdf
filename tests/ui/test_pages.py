"""The pages of a run recorded by a real ``codeteam run``, in headless Chromium."""

from __future__ import annotations

from tests.ui.conftest import XSS, Recorded, Tab, Ui


def test_the_recorded_run_is_listed_on_the_runs_page(ui: Ui, recorded: Recorded, tab: Tab) -> None:
    tab.page.goto(ui.url + "/")
    row = tab.page.locator(f"tr[data-run='{recorded.run_id}']")
    assert row.locator("td").nth(2).inner_text() == "completed"
    assert row.locator("td").nth(4).inner_text() == "3"  # tasks
    assert "write calc.py with tests" in row.inner_text()
    tab.shot("runs")
    row.locator("a").click()
    tab.page.wait_for_url(f"**/runs/{recorded.run_id}")


def test_the_run_page_shows_graph_tool_output_tests_and_diff(
    ui: Ui, recorded: Recorded, tab: Tab
) -> None:
    page = tab.page
    page.goto(f"{ui.url}/runs/{recorded.run_id}")
    # the task graph, laid out by dagre: three tasks, two dependencies, statuses in colour
    nodes = page.locator("#graph svg a.node")
    nodes.first.wait_for()
    assert sorted(nodes.evaluate_all("ns => ns.map(n => n.dataset.task)")) == [
        "impl",
        "review",
        "tests",
    ]
    assert set(nodes.evaluate_all("ns => ns.map(n => n.dataset.status)")) == {"ok"}
    assert page.locator("#graph svg path.edge").count() == 2
    colour = page.locator("#graph svg a.node rect").first.evaluate(
        "r => getComputedStyle(r).stroke"
    )
    assert colour == "rgb(26, 127, 55)"  # ok is green
    # the lead's plan and report
    assert "Plan: write calc.py" in page.locator("section", has_text="Lead's plan").inner_text()
    assert "FINAL REPORT" in page.locator("pre.report").inner_text()
    # a tool call with its stdout
    impl = page.locator("#task-impl")
    call = impl.locator("details.tool-call[data-tool=execute_code]")
    call.locator(":scope > summary").click()
    assert "STDOUT-MARK" in call.locator("pre.stdout").inner_text()
    # the per-test table of run_tests
    tests = page.locator("#task-tests details.tool-call[data-tool=run_tests]")
    tests.locator(":scope > summary").click()
    rows = tests.locator("table.tests tbody tr")
    names = rows.locator("td:first-child").all_inner_texts()
    assert any(n.endswith("test_add") for n in names) and len(names) == 2
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"passed"}
    # code_review's findings (or its explicit "none")
    review = page.locator("#task-review details.tool-call[data-tool=code_review]")
    review.locator(":scope > summary").click()
    assert "findings" in review.inner_text().lower()
    # the files each task changed, as diffs
    diff = impl.locator("details.diff", has_text="calc.py")
    assert "+def add(a, b):" in diff.locator("pre").inner_text()
    assert "+def test_add():" in page.locator("#task-tests details.diff pre").inner_text()
    # model calls: tokens, latency, stop reason
    assert "tool_use" in impl.locator(".model-call").first.inner_text()
    tab.shot("run")
    # a click on a node goes to its task
    nodes.filter(has_text="tests").click()
    assert page.evaluate("location.hash") == "#task-tests"


def test_tool_output_holding_a_script_shows_as_text_and_never_runs(
    ui: Ui, recorded: Recorded, tab: Tab
) -> None:
    page = tab.page
    page.goto(f"{ui.url}/runs/{recorded.run_id}")
    call = page.locator("#task-impl details.tool-call[data-tool=execute_code]")
    call.locator(":scope > summary").click()
    assert XSS in call.locator("pre.stdout").inner_text()
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__xss") is None
    tab.shot("xss")


def test_bad_addresses_answer_with_a_page_that_says_what_to_do(ui: Ui, tab: Tab) -> None:
    import httpx

    missing = httpx.get(f"{ui.url}/runs/nope")
    assert missing.status_code == 404 and "no run &#39;nope&#39;" in missing.text
    bad = httpx.get(f"{ui.url}/?page=zero")
    assert bad.status_code == 400 and "use page=1, 2" in bad.text
    wrong = httpx.get(f"{ui.url}/?status=done")
    statuses = "running, completed, partial, failed, stopped, interrupted"
    assert wrong.status_code == 400 and statuses in wrong.text
    posted = httpx.post(f"{ui.url}/runs/nope")
    assert posted.status_code == 405 and "only reads" in posted.text
    escape = httpx.get(f"{ui.url}/static/../app.py")
    assert escape.status_code == 404
    tab.page.goto(f"{ui.url}/?status=failed")  # an empty filter is a page, not an error
    assert "no runs with status failed" in tab.page.locator("#runs").inner_text()
