"""A project the sandbox's user cannot enter (a 0700 directory, as ``mktemp -d`` makes):
every project tool runs on a read-only snapshot the server copies, says so, and removes
it afterwards; what was private inside the project stays unreadable to the code; over the
cap, a one-line error with the fix. Real tools, real sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codeteam.sandbox.etc import PREFIX as ETC_PREFIX
from tests.tools.conftest import make_context, require_sandbox
from tests.tools.helpers import call

SECRET = "canary-secret-5d1f0c"
PY_FILES = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "privproj"\nversion = "0.1.0"\n\n'
        '[tool.setuptools]\npy-modules = ["privmod"]\n'
    ),
    "privmod.py": "import os\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n",
    "tests/test_privmod.py": (
        "from pathlib import Path\n\nfrom privmod import add\n\n"
        "ROOT = Path(__file__).resolve().parent.parent\n\n\n"
        "def test_adds():\n    assert add(2, 3) == 5\n\n\n"
        "def test_what_was_private_stays_unreadable():\n"
        "    for name in ('secret.txt', 'private/inner.txt'):\n"
        "        try:\n            text = (ROOT / name).read_text()\n"
        "        except OSError:\n            continue\n"
        "        raise AssertionError(f'read {name}: {text}')\n\n\n"
        "def test_vcs_virtualenvs_and_caches_are_left_out():\n"
        "    assert [p for p in ('.git', '.venv', '__pycache__') if (ROOT / p).exists()] == []\n\n\n"
        "def test_bench_add(benchmark):\n    assert benchmark(add, 1, 2) == 3\n"
    ),
}
GO_FILES = {
    "go.mod": "module example.com/priv\n\ngo 1.22\n",
    "calc.go": "package priv\n\nfunc Add(a, b int) int { return a + b }\n",
    "calc_test.go": (
        'package priv\n\nimport "testing"\n\n'
        'func TestAdds(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("bad")\n\t}\n}\n'
    ),
}


def fill(folder: Path, files: dict[str, str]) -> None:
    """Files as a clone leaves them (0644, directories 0755), plus what is deliberately
    private (a 0600 secret, a 0700 directory), a virtualenv and version control."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_text(text)
        path.chmod(0o644)
    (folder / "secret.txt").write_text(SECRET)
    (folder / "secret.txt").chmod(0o600)
    (folder / "private").mkdir(mode=0o700)
    (folder / "private" / "inner.txt").write_text(SECRET)
    (folder / "private" / "inner.txt").chmod(0o644)
    for skipped in (".git", ".venv", "__pycache__"):
        (folder / skipped).mkdir(mode=0o755)
        (folder / skipped / "big.bin").write_bytes(b"x" * 4096)
    (folder / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")


@pytest.fixture
def temp_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The server's temporary directory, watched for leftovers."""
    path = Path(tempfile.mkdtemp(prefix="codeteam-snaptmp-"))
    path.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def private_root(temp_dir: Path) -> Iterator[Path]:
    """A workspace root of mode 0700, as ``mktemp -d`` makes it."""
    path = Path(tempfile.mkdtemp(prefix="codeteam-private-", dir="/var/tmp"))
    assert path.stat().st_mode & 0o777 == 0o700
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def tools(private_root: Path, state_dir: Path) -> Any:
    require_sandbox()
    context = make_context(private_root, state_dir)
    yield context
    await context.services.aclose()


def snapshot_leftovers(temp_dir: Path) -> list[Path]:
    """What the server left in its temporary directory but its prepared /etc trees (those
    live as long as the server: see codeteam.sandbox.etc)."""
    return [p for p in temp_dir.iterdir() if not p.name.startswith(ETC_PREFIX)]


def snapshot_said(out: Any, private_root: Path, temp_dir: Path) -> None:
    """The result says a snapshot was used (field and text), and none is left."""
    note = out.structured["snapshot"]
    assert note and str(private_root) in note and "mode 0700" in note, out.structured
    assert f"note: {note}" in out.text.splitlines()
    assert SECRET not in out.text
    assert snapshot_leftovers(temp_dir) == []


def all_passed(out: Any, count: int, private_root: Path, temp_dir: Path) -> None:
    s = out.structured
    assert (s["status"], s["passed"], s["failed"], s["errors"]) == ("ok", count, 0, 0), out.text
    assert "bwrap" not in out.text and "Can't chdir" not in out.text
    snapshot_said(out, private_root, temp_dir)


async def test_python_tests_run_on_a_snapshot_of_a_0700_project(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    fill(private_root, PY_FILES)
    out = await call(
        tools,
        "run_tests",
        path=".",
        select=[
            "tests/test_privmod.py::test_adds",
            "tests/test_privmod.py::test_what_was_private_stays_unreadable",
            "tests/test_privmod.py::test_vcs_virtualenvs_and_caches_are_left_out",
        ],
    )
    all_passed(out, 3, private_root, temp_dir)


async def test_go_tests_run_on_a_snapshot_of_a_0700_project(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    fill(private_root, GO_FILES)
    all_passed(await call(tools, "run_tests", path="."), 1, private_root, temp_dir)


async def test_review_of_a_0700_project_reports_its_findings_at_their_real_paths(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    fill(private_root, PY_FILES)
    out = await call(tools, "code_review", path=".")
    s = out.structured
    assert s["status"] == "ok", out.text
    assert ("privmod.py", 1, "F401") in {(f["file"], f["line"], f["rule"]) for f in s["findings"]}
    snapshot_said(out, private_root, temp_dir)


async def test_a_wheel_of_a_0700_project_lands_in_the_project(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    fill(private_root, PY_FILES)
    out = await call(tools, "build", path=".", target="wheel")
    s = out.structured
    assert s["status"] == "ok", out.text
    (artifact,) = s["artifacts"]
    assert artifact["path"] == "dist/privproj-0.1.0-py3-none-any.whl"
    assert (private_root / artifact["path"]).stat().st_size == artifact["size"]
    snapshot_said(out, private_root, temp_dir)


async def test_benchmarks_and_profile_of_a_0700_project(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    fill(private_root, PY_FILES)
    out = await call(tools, "run_benchmarks", path=".", select=["test_bench_add"])
    assert out.structured["status"] == "ok", out.text
    assert [b["name"] for b in out.structured["benchmarks"]] == [
        "tests/test_privmod.py::test_bench_add"
    ]
    snapshot_said(out, private_root, temp_dir)
    out = await call(tools, "profile", path=".", select=["test_adds"])
    assert out.structured["status"] == "ok", out.text
    snapshot_said(out, private_root, temp_dir)


async def test_a_0700_project_inside_an_open_root_is_snapshotted_alone(
    private_root: Path, state_dir: Path, temp_dir: Path
) -> None:
    require_sandbox()
    private_root.chmod(0o755)
    project = private_root / "proj"
    project.mkdir(mode=0o700)
    fill(project, PY_FILES)
    (private_root / "elsewhere.bin").write_bytes(b"y" * 8192)
    context = make_context(private_root, state_dir, snapshot_cap=8000)
    try:
        out = await call(context, "run_tests", path="proj/tests", select=["test_adds"])
    finally:
        await context.services.aclose()
    assert (out.structured["status"], out.structured["passed"]) == ("ok", 1), out.text
    assert f"snapshot of {project} " in out.structured["snapshot"]


async def test_a_readable_project_runs_in_place_and_its_secret_stays_unreadable(
    private_root: Path, state_dir: Path, temp_dir: Path
) -> None:
    require_sandbox()
    private_root.chmod(0o755)
    fill(private_root, PY_FILES)
    context = make_context(private_root, state_dir)
    try:
        out = await call(
            context,
            "run_tests",
            path="tests",
            select=["test_adds", "test_what_was_private_stays_unreadable"],
        )
    finally:
        await context.services.aclose()
    assert (out.structured["status"], out.structured["passed"]) == ("ok", 2), out.text
    assert out.structured["snapshot"] is None and "note:" not in out.text


async def test_over_the_cap_is_one_line_naming_the_directory_and_the_fix(
    private_root: Path, state_dir: Path, temp_dir: Path
) -> None:
    require_sandbox()
    fill(private_root, PY_FILES)
    (private_root / "data.bin").write_bytes(b"z" * 5000)
    (private_root / "data.bin").chmod(0o644)
    context = make_context(private_root, state_dir, snapshot_cap=4096)
    try:
        out = await call(context, "run_tests", path=".")
    finally:
        await context.services.aclose()
    assert out.is_error and out.structured["status"] == "rejected", out.structured
    message = out.structured["error"]
    assert "\n" not in message
    for part in (
        str(private_root),
        "mode 0700",
        "snapshot cap",
        f"chmod -R o+rX {private_root}",
        "--snapshot-cap",
    ):
        assert part in message, message
    assert snapshot_leftovers(temp_dir) == []


async def test_a_call_cancelled_while_on_a_snapshot_leaves_none_behind(
    tools: Any, private_root: Path, temp_dir: Path
) -> None:
    """Cancelled as soon as its snapshot exists: while it is still being copied (64 MiB),
    or once the tests run on it; either way nothing is left."""
    fill(private_root, PY_FILES)
    (private_root / "big.bin").write_bytes(bytes(64 << 20))
    (private_root / "big.bin").chmod(0o644)
    task = asyncio.ensure_future(call(tools, "run_tests", path="."))

    def snapshots() -> list[Path]:
        return list(temp_dir.glob("codeteam-snapshot-*"))

    end = time.monotonic() + 60
    while not snapshots():
        assert time.monotonic() < end and not task.done(), "no snapshot was made"
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while snapshots():  # a copy stopped mid-way removes itself from its own thread
        assert time.monotonic() < end, f"left behind: {snapshots()}"
        await asyncio.sleep(0.02)


def test_the_copy_is_hidden_from_the_machine_s_other_users(
    private_root: Path, temp_dir: Path
) -> None:
    """What the 0700 directory hid from other users stays hidden while the copy exists:
    only the server may enter the directory that holds it (the sandbox gets it bound)."""
    import threading

    from codeteam.tools import snapshot

    fill(private_root, PY_FILES)
    stranger = snapshot.Reader(65534, frozenset([65534]))
    blocked = snapshot.blocking(private_root, private_root, stranger)
    assert blocked == private_root
    snap = snapshot.take(private_root, private_root, blocked, stranger, 1 << 20, threading.Event())
    try:
        holder = snap.path.parent
        assert holder.parent == temp_dir and holder.stat().st_mode & 0o777 == 0o700
        assert holder.stat().st_uid == os.geteuid()
        copied = sorted(p.relative_to(snap.path).as_posix() for p in snap.path.rglob("*"))
        assert copied == ["privmod.py", "pyproject.toml", "tests", "tests/test_privmod.py"]
        assert snap.files == 3
    finally:
        shutil.rmtree(snap.path.parent)
