"""The precomputed listings equal what the live tools would write, and the generator's
``--check`` says so (exit 0) or names the stale module (exit 1) in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from codeteam.assembly import builtin_listing, builtin_tools, team_listing, team_tools
from codeteam.assembly.listings import LISTINGS, render_listing_module
from codeteam.protocol.catalog import tool_json

TEAM = ["team_run", "code_agent", "test_agent", "review_agent", "deploy_agent"]


def test_precomputed_listing_equals_the_live_builtin_tools() -> None:
    live = builtin_tools()
    assert json.loads(builtin_listing.TOOLS_JSON) == [tool_json(t) for t in live]
    assert tuple(t.name for t in live) == builtin_listing.NAMES


def test_precomputed_team_listing_equals_the_live_team_tools() -> None:
    assert json.loads(team_listing.TOOLS_JSON) == [tool_json(t) for t in team_tools()]
    assert list(team_listing.NAMES) == TEAM


def test_generated_modules_are_what_the_generator_writes() -> None:
    for path, tools in LISTINGS:
        assert Path(path).read_text(encoding="utf-8") == render_listing_module(tools()), (
            f"stale {path}: run python -m codeteam.assembly.listings"
        )


def test_check_passes_on_fresh_listings_and_names_a_stale_one(tmp_path: Path) -> None:
    check = [sys.executable, "-m", "codeteam.assembly.listings", "--check"]
    fresh = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    path = Path(LISTINGS[0][0])
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace('"execute_code",', '"execute_kode",'), encoding="utf-8")
        stale = subprocess.run(check, capture_output=True, text=True, timeout=120)
    finally:
        path.write_text(original, encoding="utf-8")
    assert stale.returncode == 1
    assert stale.stdout.strip() == f"{path} is stale: run python -m codeteam.assembly.listings"
