"""Two servers on one machine never share a sandbox uid (a slot's uid is swept before reuse)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from codeteam.sandbox import Sandbox, SandboxSpec
from codeteam.sandbox.uids import UidLease
from tests.sandbox.conftest import make_settings, require_bwrap


def test_two_leases_with_the_same_base_get_disjoint_uids(tmp_path: Path) -> None:
    first = UidLease(tmp_path, 70000, 4)
    second = UidLease(tmp_path, 70000, 4)
    assert first.uids == [70000, 70001, 70002, 70003]
    assert second.uids == [70004, 70005, 70006, 70007]
    first.close()
    third = UidLease(tmp_path, 70000, 2)
    assert third.uids == [70000, 70001]


def test_a_dead_servers_uids_are_free_again(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from codeteam.sandbox.uids import UidLease; "
            f"l = UidLease(pathlib.Path({str(tmp_path)!r}), 70000, 3); print(l.uids, flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "[70000, 70001, 70002]"
    assert UidLease(tmp_path, 70000, 1).uids == [70003]
    holder.kill()
    holder.wait()
    assert UidLease(tmp_path, 70000, 1).uids == [70000]


def test_exhausted_range_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("codeteam.sandbox.uids.SEARCH_SPAN", 3)
    UidLease(tmp_path, 70000, 3)
    with pytest.raises(RuntimeError, match="free sandbox uids"):
        UidLease(tmp_path, 70000, 1)


async def test_two_servers_with_different_state_dirs_run_code_as_different_uids(
    state_dir: Path,
) -> None:
    """The lease is machine-wide: servers never sweep each other's sandboxes."""
    require_bwrap()
    first = Sandbox.from_settings(make_settings(state_dir / "a", max_concurrency=1))
    second = Sandbox.from_settings(make_settings(state_dir / "b", max_concurrency=1))
    spec = SandboxSpec(argv=["/usr/bin/id", "-u"], timeout_s=10)
    try:
        a, b = await asyncio.gather(first.run(spec), second.run(spec))
    finally:
        await first.aclose()
        await second.aclose()
    assert a.exit_code == 0 and b.exit_code == 0
    assert int(a.stdout) != int(b.stdout)
