"""Budgets and guards through real parts: each limit stops what it must, is recorded in the
store and named in the report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codeteam.config import ConfigError
from codeteam.llm.anthropic import AnthropicProvider
from codeteam.store import Store
from codeteam.team.budget import CallGuard, LimitReached, Price, load_prices, price_for
from codeteam.team.config import TeamConfig
from codeteam.team.runner import run_team
from tests.team.conftest import FAST
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Reply, Response, text, tool_use
from tests.team.test_team_run import assign, run, specialist_calls, team


def busy(req: ModelRequest) -> Response:
    """A specialist that never finishes, each call different (not a loop)."""
    return Reply([tool_use("list_files", path=f"d{req.turn}")])


async def test_token_cap_stops_the_run_before_the_next_model_call_and_reports_it(
    store: Store, tmp_path: Path
) -> None:
    # Every call costs 100 + 20 tokens: lead 120, then a 240, a 360 >= 300 -> refused.
    with FakeAnthropic(team([assign("a")], busy)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_run_tokens=300)
    assert result.status == "stopped"
    assert "run token cap reached: 360 of 300 tokens" in str(result.error)
    assert "token cap" in result.report and "a: failed" in result.report
    assert len(fake.calls) == 3  # lead, a, a: nothing after the cap
    assert result.tasks["a"].status == "failed"
    recorded = store.get_run(result.run_id)
    assert recorded is not None and recorded["status"] == "stopped"
    assert [(x["kind"], x["task_id"]) for x in recorded["limits"]] == [("tokens", "a")]


async def test_cost_cap_stops_the_run_with_prices_from_the_table(
    store: Store, tmp_path: Path
) -> None:
    prices = {"claude-test": Price(input=1000.0, output=1000.0)}  # $0.12 per call here
    with FakeAnthropic(team([assign("a")], busy)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_cost_usd=0.2, prices=prices)
    assert result.status == "stopped" and "run cost cap reached: spent $0.24 of a $0.20 cap" in str(
        result.error
    )
    assert len(fake.calls) == 2
    recorded = store.get_run(result.run_id)
    assert recorded is not None and [x["kind"] for x in recorded["limits"]] == ["cost"]
    assert "Limits that fired" in str(recorded["report"])


async def test_unknown_model_with_a_cost_cap_is_refused_before_any_call(
    store: Store, tmp_path: Path
) -> None:
    with FakeAnthropic(team([assign("a")], busy)) as fake:
        provider = AnthropicProvider("mystery-model", api_key="k", base_url=fake.url, cfg=FAST)
        cfg = TeamConfig(request="x", workspace=tmp_path / "ws", max_cost_usd=1.0)
        with pytest.raises(ConfigError, match=r"price for model 'mystery-model'.*--prices"):
            await run_team(cfg, provider, store)
        await provider.aclose()
    assert fake.calls == [] and store.list_runs() == []


def test_cli_refuses_a_cost_cap_on_an_unknown_model_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codeteam", "run", "x", "--max-cost", "1", "--model", "mystery"],
        env={"ANTHROPIC_API_KEY": "k", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "mystery" in done.stderr and "--prices" in done.stderr


async def test_a_specialist_repeating_the_same_tool_call_is_cut_and_the_run_goes_on(
    store: Store, tmp_path: Path
) -> None:
    def loop(req: ModelRequest) -> Response:
        if req.first_text.endswith("do stuck"):
            return Reply([tool_use("read_file", path="same.txt")])
        return Reply([text("fine")])

    plan = [assign("stuck"), assign("fine")]
    with FakeAnthropic(team(plan, loop)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_turns=20)
    assert result.status == "partial" and result.tasks["fine"].ok
    stuck = result.tasks["stuck"]
    assert stuck.status == "failed" and "read_file called 3 times in a row" in str(stuck.error)
    assert len(specialist_calls(fake, "stuck")) == 3  # cut at the third, not at 20 turns
    recorded = store.get_run(result.run_id)
    assert recorded is not None
    # The third identical call was refused, not run.
    assert [c["name"] for c in recorded["tool_calls"] if c["task_id"] == "stuck"] == [
        "read_file",
        "read_file",
    ]
    assert [(x["kind"], x["task_id"]) for x in recorded["limits"]] == [("repeat", "stuck")]
    assert "Limits that fired" in result.report and "repeat" in result.report


async def test_tool_call_limit_stops_a_specialist(store: Store, tmp_path: Path) -> None:
    with FakeAnthropic(team([assign("a")], busy)) as fake:
        result = await run(fake, store, tmp_path / "ws", max_tool_calls=2)
    assert "tool call limit reached: 2 calls" in str(result.tasks["a"].error)
    assert len(specialist_calls(fake, "a")) == 3
    assert [r for r in result.limits if r.startswith("tool_calls")]


def test_guard_counts_only_consecutive_identical_calls() -> None:
    guard = CallGuard(max_calls=None, repeat=3)
    for args in ({"p": 1}, {"p": 1}, {"p": 2}, {"p": 1}, {"p": 1}):
        guard.admit("read_file", args)
    with pytest.raises(LimitReached) as info:
        guard.admit("read_file", {"p": 1})
    assert info.value.kind == "repeat"


def test_price_table_matches_dated_models_and_reads_overrides(tmp_path: Path) -> None:
    prices = load_prices(None)
    assert price_for("claude-sonnet-4-5-20250929", prices) == prices["claude-sonnet-4-5"]
    assert price_for("no-such-model", prices) is None
    toml = tmp_path / "prices.toml"
    toml.write_text("[my-model]\ninput = 1.5\noutput = 2\n")
    assert load_prices(toml)["my-model"] == Price(1.5, 2.0)
    bad = tmp_path / "bad.json"
    bad.write_text('{"m": {"input": "cheap"}}')
    with pytest.raises(ConfigError, match="model 'm' needs numbers"):
        load_prices(bad)
