"""Who may read the UI, and that it only reads."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from codeteam.store import Store
from tests.ui.conftest import Recorded, Ui, codeteam, start_ui, stop_ui


def test_off_loopback_without_a_token_is_refused_in_one_line(recorded: Recorded) -> None:
    done = subprocess.run(
        codeteam("ui", "--db", str(recorded.db), "--host", "0.0.0.0", "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "refusing to serve HTTP on non-loopback address 0.0.0.0 without a token" in done.stderr


def test_a_missing_database_is_refused_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        codeteam("ui", "--db", str(tmp_path / "none.db"), "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no run records at" in done.stderr and "--db PATH" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_with_a_token_a_browser_presents_it_once_then_by_cookie(recorded: Recorded) -> None:
    ui = start_ui(recorded.db, "--token", "s3cret")
    try:
        assert httpx.get(ui.url + "/").status_code == 401
        assert httpx.get(ui.url + "/", headers={"authorization": "Bearer nope"}).status_code == 401
        bearer = httpx.get(ui.url + "/", headers={"authorization": "Bearer s3cret"})
        assert bearer.status_code == 200 and recorded.run_id in bearer.text
        with httpx.Client(base_url=ui.url) as browser:
            first = browser.get("/?token=s3cret&status=completed")
            assert first.status_code == 303 and first.headers["location"] == "/?status=completed"
            assert "HttpOnly" in first.headers["set-cookie"]
            page = browser.get(f"/runs/{recorded.run_id}")
            assert page.status_code == 200 and "calc.py" in page.text
        assert httpx.get(ui.url + "/?token=wrong").status_code == 401
        # the redirect that drops the token never leaves the site
        off_site = httpx.get(ui.url + "//evil.example/?token=s3cret")
        assert off_site.status_code == 303 and off_site.headers["location"] == "/evil.example/"
    finally:
        stop_ui(ui)


def test_a_foreign_host_header_is_refused(ui: Ui) -> None:
    refused = httpx.get(ui.url + "/", headers={"host": "evil.example:8765"})
    assert refused.status_code == 403 and "DNS rebinding" in refused.text


def test_reading_never_writes_the_records(recorded: Recorded) -> None:
    def digest() -> str:
        con = sqlite3.connect(f"file:{recorded.db}?mode=ro", uri=True)
        dump = "\n".join(con.iterdump())
        con.close()
        return hashlib.sha256(dump.encode()).hexdigest()

    before = digest()
    ui = start_ui(recorded.db)
    try:
        for path in ("/", f"/runs/{recorded.run_id}", "/?status=failed", "/runs/nope"):
            httpx.get(ui.url + path)
        assert httpx.post(ui.url + "/").status_code == 405
    finally:
        stop_ui(ui)
    assert digest() == before
    ro = Store(recorded.db, readonly=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.finish_run(recorded.run_id, "failed")
    finally:
        ro.close()


def test_runs_show_prints_the_page_while_a_ui_serves_the_records(recorded: Recorded) -> None:
    def show() -> str:
        done = subprocess.run(
            codeteam("runs", "--db", str(recorded.db), "show", recorded.run_id[:15]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    ui = start_ui(recorded.db)
    try:
        line = f"in the browser: {ui.url}/runs/{recorded.run_id}"
        assert line in show()
        assert httpx.get(line.split(": ", 1)[1]).status_code == 200
    finally:
        stop_ui(ui)
    assert "in the browser" not in show()


def test_a_run_whose_process_died_shows_interrupted_and_stays_recorded_as_it_was(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.db"
    store = Store(db)
    run_id = store.create_run("orphaned", "/ws", "anthropic", "claude-sonnet-4-5")
    dead = subprocess.Popen(["true"])
    dead.wait()
    store.db.execute("UPDATE runs SET owner_pid = ? WHERE id = ?", (dead.pid, run_id))
    partial = store.create_run("half done", "/ws", "anthropic", "claude-sonnet-4-5")
    store.finish_run(partial, "partial")
    store.close()
    ui = start_ui(db)

    def listed(status: str) -> list[str]:
        text = httpx.get(f"{ui.url}/?status={status}").text
        return [r for r in (run_id, partial) if f"/runs/{r}" in text]

    try:
        listing = httpx.get(ui.url + "/")
        assert 'class="badge st-interrupted">interrupted<' in listing.text
        page = httpx.get(f"{ui.url}/runs/{run_id}")
        assert f"resume it: codeteam run --resume {run_id}" in page.text
        # filtered as it reads, though the read-only page cannot record it so
        assert listed("interrupted") == [run_id] and listed("running") == []
        assert listed("partial") == [partial]
    finally:
        stop_ui(ui)
    con = sqlite3.connect(db)
    assert con.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0] == "running"
    con.close()
