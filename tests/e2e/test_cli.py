"""The command line: bad flags and settings are reported in one line with exit 2, whatever
the client does (even when it hangs up before asking anything)."""

from __future__ import annotations

import subprocess
import sys

import pytest

SERVE = [sys.executable, "-m", "codeteam", "serve"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--root", "/"], "'/' cannot be a workspace root"),
        (["--transport", "carrier-pigeon"], "invalid choice"),
        (["--transport", "http", "--host", "0.0.0.0"], "without a token"),
    ],
)
def test_bad_serve_flags_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    proc = subprocess.run([*SERVE, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stdout == ""


def test_version_and_help() -> None:
    out = subprocess.run([sys.executable, "-m", "codeteam", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("codeteam ")
    helptext = subprocess.run([sys.executable, "-m", "codeteam", "--help"], capture_output=True,
                              text=True, check=True).stdout
    for command in ("serve", "run", "runs"):
        assert command in helptext
