"""The sandbox's /etc is one prepared tree per identity (one bind mount instead of eight):
it holds exactly the harmless host files and the generated identity, follows changes to
the host files, and is gone when the sandbox closes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from codeteam.sandbox import Sandbox, SandboxSpec
from codeteam.sandbox.etc import HOST_FILES, EtcTrees, remove_stale
from tests.sandbox.conftest import PY


def host_etc(tmp_path: Path) -> Path:
    src = tmp_path / "etc"
    (src / "ld.so.conf.d").mkdir(parents=True)
    (src / "ld.so.conf.d" / "x.conf").write_text("/usr/local/lib\n")
    (src / "alternatives").mkdir()
    (src / "alternatives" / "editor").symlink_to("/usr/bin/true")
    (src / "nsswitch.conf").write_text("passwd: files\n")
    (src / "localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (src / "shadow").write_text("root:secret\n")  # not one of the harmless files
    return src


def test_a_tree_holds_the_harmless_files_and_follows_their_changes(tmp_path: Path) -> None:
    src = host_etc(tmp_path)
    parent = tmp_path / "trees"
    parent.mkdir()
    trees = EtcTrees(source=src, parent=str(parent))
    first = trees.tree(1234, 1235)
    assert sorted(p.name for p in first.iterdir()) == [
        "alternatives",
        "group",
        "hosts",
        "ld.so.conf.d",
        "localtime",
        "nsswitch.conf",
        "passwd",
    ]
    assert (first / "passwd").read_text().startswith("sandbox:x:1234:1235:")
    assert os.readlink(first / "localtime") == "/usr/share/zoneinfo/Etc/UTC"
    assert os.readlink(first / "alternatives" / "editor") == "/usr/bin/true"
    assert trees.tree(1234, 1235) == first  # unchanged host files: the same tree
    time.sleep(0.01)
    (src / "nsswitch.conf").write_text("passwd: files systemd\n")
    second = trees.tree(1234, 1235)
    assert second != first and (second / "nsswitch.conf").read_text() == "passwd: files systemd\n"
    assert first.is_dir()  # a sandbox started before the change may still have it bound
    assert trees.tree(99, 99) != second  # another identity, another passwd
    trees.close()
    assert list(parent.iterdir()) == []


def test_trees_of_a_dead_server_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / "codeteam-etc-999999999-abc"
    (dead / "1").mkdir(parents=True)
    alive = tmp_path / f"codeteam-etc-{os.getpid()}-abc"
    alive.mkdir()
    remove_stale(str(tmp_path))
    assert not dead.exists() and alive.exists()


async def test_the_sandbox_sees_only_the_tree_read_only(sandbox: Sandbox) -> None:
    code = """
import json, os
try:
    open('/etc/passwd', 'a'); writable = True
except OSError:
    writable = False
print(json.dumps([sorted(os.listdir('/etc')), open('/etc/passwd').read(), writable, os.getuid()]))
"""
    r = await sandbox.run(SandboxSpec(argv=[PY, "-c", code]))
    assert r.exit_code == 0, r
    names, passwd, writable, uid = json.loads(r.stdout)
    present = [n for n in HOST_FILES if os.path.lexists(f"/etc/{n}")]
    assert names == sorted([*present, "group", "hosts", "passwd"])
    assert passwd.startswith(f"sandbox:x:{uid}:") and not writable
