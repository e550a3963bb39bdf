"""``--unsafe-no-sandbox``: the same spec run unconfined, for development machines only.

No namespaces, so ``/work`` and ``/tmp`` become private host directories and every sandbox
path in argv, cwd and env values is rewritten to its host counterpart (binds map their
target to their source). Limits, the wall clock, output caps, the scrubbed environment
and the kill of the process group (and, as root, of the slot uid) still apply; daemons
that leave the process group escape when the server is not root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from codeteam.sandbox.launch import prefix
from codeteam.sandbox.prepare import TMP, WORK, build_env, check_file_name, read_collected
from codeteam.sandbox.runner import Launch
from codeteam.sandbox.spec import SandboxSpec


@dataclass
class UnsafePrepared:
    launch: Launch
    base: str
    collect: dict[str, Path] = field(default_factory=dict)

    def spawned(self) -> None:
        return None

    def ns_pid(self) -> int | None:
        return None

    def read_collected(self, cap: int) -> dict[str, bytes]:
        return read_collected(self.collect, cap)

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def prepare(spec: SandboxSpec, *, uid: int, gid: int, switch_user: bool) -> UnsafePrepared:
    base = tempfile.mkdtemp(prefix="codeteam-unsafe-")
    work, tmp = os.path.join(base, "work"), os.path.join(base, "tmp")
    os.mkdir(work, 0o700)
    os.mkdir(tmp, 0o700)
    prefixes = sorted(
        [(WORK, work), (TMP, tmp), *((b.target, str(b.source)) for b in spec.binds)],
        key=lambda kv: -len(kv[0]),
    )

    def host(path: str) -> str:
        for inner, outer in prefixes:
            if path == inner or path.startswith(inner + "/"):
                return outer + path[len(inner) :]
        return path

    for name, data in spec.files.items():
        dest = Path(work, check_file_name(name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        dest.chmod(0o755 if name in spec.executables else 0o644)
    prepared = UnsafePrepared(
        launch=Launch(
            argv=[
                *prefix(spec.limits, user=uid if switch_user else None, group=gid),
                *(host(a) for a in spec.argv),
            ],
            env={k: host(v) for k, v in build_env(spec).items()},
            cwd=host(spec.cwd),
        ),
        base=base,
        collect={target: Path(host(target)) for target in spec.collect},
    )
    if switch_user:
        for root, dirs, files in os.walk(base):
            for entry in (root, *(os.path.join(root, n) for n in dirs + files)):
                os.chown(entry, uid, gid)
    return prepared
