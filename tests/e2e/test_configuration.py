"""The configuration rule of the README: every flag of ``codeteam serve --help`` also reads
from ``CODETEAM_<FLAG>``, a flag wins over its variable, and a ``CODETEAM_*`` variable that
names nothing is reported on stderr instead of silently ignored.

The flags are taken from the parser itself, so a flag added later is covered too."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codeteam.cli import _serve_parser, parse_serve_args
from codeteam.config import Settings, env_name, load_settings

SRC = Path(__file__).resolve().parents[2] / "src"
SERVE = [sys.executable, "-m", "codeteam", "serve"]


def serve_flags() -> list[argparse.Action]:
    parser = argparse.ArgumentParser()
    serve = _serve_parser(parser.add_subparsers())
    return [a for a in serve._actions if a.dest != "help"]


def settings(args: list[str]) -> Settings:
    ns = parse_serve_args(args)
    return load_settings({k: v for k, v in vars(ns).items() if k != "command"})


def other_value(action: argparse.Action, tmp: Path) -> str:
    """A valid value for the flag that differs from its default, as a string."""
    default = getattr(Settings(), action.dest)
    if action.choices is not None:
        return next(str(c) for c in action.choices if c != default)
    if action.type is Path:
        return str(tmp)
    if action.type is int:
        return str(default + 1)
    if action.type is float:
        return str(default / 2)
    return "https://a.example" if action.dest == "allowed_origins" else "not-the-default"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in os.environ:
        if name.startswith("CODETEAM_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("action", serve_flags(), ids=lambda a: a.option_strings[0])
def test_every_serve_flag_reads_from_the_variable_named_after_it(
    action: argparse.Action,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flag = action.option_strings[0]
    value = other_value(action, tmp_path)
    from_flag = settings([flag] if action.nargs == 0 else [flag, value])
    clean_env.setenv(env_name(flag), "1" if action.nargs == 0 else value)
    from_env = settings([])
    assert getattr(from_env, action.dest) != getattr(Settings(), action.dest)
    assert from_env == from_flag
    assert capsys.readouterr().err == ""


def test_the_variable_is_the_flag_in_capitals() -> None:
    assert env_name("--call-memory") == "CODETEAM_CALL_MEMORY"
    assert env_name("--allowed-origin") == "CODETEAM_ALLOWED_ORIGIN"


def test_a_flag_wins_over_its_variable_and_lists_split_like_path(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    clean_env.setenv("CODETEAM_ROOT", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    clean_env.setenv("CODETEAM_ALLOWED_ORIGIN", "https://a.example,https://b.example")
    clean_env.setenv("CODETEAM_CALL_MEMORY", "1000")
    got = settings(["--call-memory", "2000"])
    assert got.roots == (tmp_path / "a", tmp_path / "b")
    assert got.allowed_origins == ("https://a.example", "https://b.example")
    assert got.call_memory_bytes == 2000
    assert settings(["--root", str(tmp_path)]).roots == (tmp_path,)


def test_an_old_variable_name_still_works_for_now_with_a_deprecation_warning(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("CODETEAM_MEMORY_BYTES", "12345")
    assert settings([]).memory_bytes == 12345
    err = capsys.readouterr().err
    assert "CODETEAM_MEMORY_BYTES is deprecated" in err and "CODETEAM_MEMORY" in err


def test_variables_the_project_reads_elsewhere_are_not_warned_about(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every ``CODETEAM_*`` name the sources, scripts and container files use is a flag's
    (by its current name) or one that another part of the project reads."""
    root = SRC.parent
    text = "".join(
        p.read_text(encoding="utf-8")
        for p in [
            *SRC.rglob("*.py"),
            *root.glob("scripts/*"),
            *root.glob("docker*"),
            root / "Dockerfile",
        ]
        if p.is_file() and p != SRC / "codeteam" / "config.py"  # it names the old names
    )
    names = set(re.findall(r"\bCODETEAM_[A-Z][A-Z_]*[A-Z]\b", text))
    assert {"CODETEAM_TEAM_PROVIDER", "CODETEAM_PREFIX", "CODETEAM_TOKEN"} <= names
    for name in names:
        clean_env.setenv(name, "1")
    clean_env.setenv("CODETEAM_TRANSPORT", "stdio")
    clean_env.setenv("CODETEAM_EXECUTOR", "local")
    clean_env.setenv("CODETEAM_ROOT", str(root))
    settings([])
    assert capsys.readouterr().err == ""


def _stdio_session(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One tools/list over stdio, then end of input (the settings load right after it)."""
    listing = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) + "\n"
    return subprocess.run(
        SERVE, input=listing, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CODETEAM_")}
    return {**base, "CODETEAM_ROOT": str(tmp_path), **extra}


def test_a_misspelled_variable_is_reported_once_on_stderr_and_serving_goes_on(
    tmp_path: Path,
) -> None:
    done = _stdio_session(_env(tmp_path, CODETEAM_POOL_SIZ="0", CODETEAM_MODEL="m"))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [1]
    warnings = [line for line in done.stderr.splitlines() if "CODETEAM_" in line]
    assert warnings == [
        "codeteam: warning: CODETEAM_POOL_SIZ names no setting and is ignored: "
        "did you mean CODETEAM_POOL_SIZE?"
    ]


def test_a_bad_variable_value_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--transport", "http"],
        env=_env(tmp_path, CODETEAM_PORT="eighty"),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "codeteam: CODETEAM_PORT='eighty': --port takes an integer"


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_an_unreachable_ray_cluster_is_one_clear_line_and_exit_2(
    tmp_path: Path, transport: str
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    done = subprocess.run(
        [*SERVE, "--transport", transport, "--executor", "ray", "--ray-address", address],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"codeteam: cannot reach the Ray cluster at {address} (Connection refused): start it "
        "(ray start --head) or pass --ray-address"
    )


def test_an_unknown_executor_variable_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--transport", "http"],
        env=_env(tmp_path, CODETEAM_EXECUTOR="docker"),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "codeteam: CODETEAM_EXECUTOR='docker': --executor takes local or ray"
    )
