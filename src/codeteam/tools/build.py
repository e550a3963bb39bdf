"""``build``: a wheel, a Go binary, a Dockerfile, or (when asked and a Docker engine
answers) a Docker image. Builds run sandboxed; the server writes what they produced into
the project after checking names and sizes. ``docker build`` is the one unsandboxed step:
it needs the Docker socket, and the result says so. Nothing is ever pushed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from codeteam.tools.base import Doc, ToolContext, ToolError
from codeteam.tools.outcome import RunStatus, run_status
from codeteam.tools.paths import Confined, confine, display
from codeteam.tools.project import (
    SnapshotNote,
    output,
    output_lines,
    resolve_project,
    sandbox_view,
    snapshot_lines,
    translated,
)
from codeteam.tools.writing import replace_file

Target = Literal["wheel", "binary", "dockerfile", "docker_image"]
MAX_ARTIFACT_BYTES = 128 << 20
DOCKER_TIMEOUT_S = 900.0


@dataclass
class Artifact:
    path: Annotated[
        str, Doc("where it was written (relative to the workspace root); image: its id")
    ]
    size: int
    sha256: str


@dataclass
class BuildResult:
    status: Annotated[RunStatus, Doc("error: see output")]
    language: str
    target: str
    path: str
    artifacts: list[Artifact] = field(default_factory=list)
    sandboxed: Annotated[
        bool, Doc("false for docker_image: docker build runs unsandboxed, via the Docker socket")
    ] = True
    output: Annotated[str, Doc("the build's output, capped")] = ""
    duration_ms: float = 0.0
    snapshot: SnapshotNote = None

    def render(self) -> str:
        lines = [f"{self.language} {self.target} build of {self.path}: {self.status}"]
        if not self.sandboxed:
            lines[0] += " (docker build ran unsandboxed, through the Docker engine)"
        lines += snapshot_lines(self.snapshot)
        for a in self.artifacts:
            lines.append(f"  {a.path} ({a.size} bytes, sha256 {a.sha256})")
        if self.status != "ok":
            lines += output_lines(self.output)
        return "\n".join(lines)


def write_artifact(
    roots: tuple[Path, ...], project: Confined, rel: str, data: bytes, executable: bool
) -> Artifact:
    """Write ``data`` at ``project/rel`` atomically, refusing anything that resolves outside
    the roots (a ``dist`` symlink, say) or is too big."""
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ToolError(f"{rel} is {len(data)} bytes, over the {MAX_ARTIFACT_BYTES}-byte limit")
    target = confine(roots, str(project.path / rel), must_exist=False)
    if target.path.is_dir():
        raise ToolError(f"{display(target, roots)} is a directory; move it away and build again")
    replace_file(roots, target, data, 0o755 if executable else 0o644)
    return Artifact(display(target, roots), len(data), hashlib.sha256(data).hexdigest())


#: What tells the docker client which engine to use (a remote or rootless one) and how.
_DOCKER_CLIENT_ENV = frozenset(
    (
        "HOME",
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_CERT_PATH",
        "DOCKER_TLS_VERIFY",
    )
)


async def _docker(*args: str, timeout: float) -> tuple[int | None, str]:
    """Run the docker CLI (unsandboxed: it talks to the engine over its socket)."""
    import asyncio
    import shutil

    docker = shutil.which("docker")
    if docker is None:
        raise ToolError("no Docker engine: the docker command is not installed", "unavailable")
    proc = await asyncio.create_subprocess_exec(
        docker,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **{k: v for k, v in os.environ.items() if k in _DOCKER_CLIENT_ENV},
            "DOCKER_BUILDKIT": "1",
        },
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode("utf-8", errors="replace")


async def require_engine() -> None:
    """``docker info``, or an ``unavailable`` error naming why no engine answered."""
    try:
        code, text = await _docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except TimeoutError:
        raise ToolError(
            "no Docker engine: docker info did not answer in 20 s", "unavailable"
        ) from None
    if code != 0:
        why = next((line for line in text.splitlines() if line.strip()), "docker info failed")
        raise ToolError(
            f"no Docker engine: {why.strip()}; start Docker, or use target=dockerfile",
            "unavailable",
        )


async def docker_image(path: Path, timeout_s: float) -> tuple[int | None, str, str | None]:
    """``docker build`` of ``path``: (exit code or None on timeout, output, image id)."""
    with tempfile.TemporaryDirectory(prefix="codeteam-docker-") as tmp:
        iid = Path(tmp) / "iid"
        try:
            code, text = await _docker(
                "build", "--iidfile", str(iid), "--", str(path), timeout=timeout_s
            )
        except TimeoutError:
            return None, f"docker build timed out after {timeout_s:g} s", None
        image = iid.read_text().strip() if iid.is_file() else None
    return code, text[-64_000:], image


async def build(
    ctx: ToolContext,
    path: Annotated[str, Doc("the project directory (pyproject.toml / go.mod, or a main package)")],
    target: Annotated[
        Target,
        Doc(
            "wheel (Python), binary (Go), dockerfile (either), docker_image (runs docker "
            "build, unsandboxed; needs a Docker engine)"
        ),
    ],
    language: Annotated[str | None, Doc("python or go; detected when omitted")] = None,
    overwrite: Annotated[
        bool, Doc("dockerfile: replace an existing Dockerfile (default false: refuse)")
    ] = False,
) -> BuildResult:
    from codeteam.tools.progress import ticking

    roots = ctx.settings.roots
    project = resolve_project(ctx, path, language)
    if not project.target.path.is_dir():
        raise ToolError(f"{path!r} is a file; give the project directory")
    base = BuildResult("ok", project.language, target, project.display)
    if target == "docker_image":
        await require_engine()
    if target in ("dockerfile", "docker_image"):
        dockerfile = project.target.path / "Dockerfile"
        if target == "dockerfile" or not dockerfile.exists():
            if dockerfile.exists() and not overwrite:
                raise ToolError(
                    f"{project.display}/Dockerfile exists; pass overwrite=true to replace it"
                )
            content = project.toolchain.dockerfile(project.target.path).encode()
            base.artifacts.append(
                write_artifact(roots, project.target, "Dockerfile", content, False)
            )
        if target == "dockerfile":
            return base
        base.sandboxed = False
        async with ticking(ctx, f"docker build {path}"):
            code, text, image = await docker_image(project.target.path, DOCKER_TIMEOUT_S)
        base.output = text
        base.status = "ok" if code == 0 else "timeout" if code is None else "error"
        if image:
            base.artifacts.append(Artifact(image, 0, image.removeprefix("sha256:")))
        return base
    with translated():
        async with (
            ticking(ctx, f"building {target} of {path}"),
            sandbox_view(ctx, project) as (root, folder),
        ):
            built = await project.toolchain.build(project.executor, root, folder, target)
    base.snapshot = project.snapshot
    result = built.result
    base.output = output(result)
    base.duration_ms = round(result.duration_ms, 1)
    base.status = run_status(result, result.exit_code == 0 and bool(built.files))
    for rel, data in built.files.items():
        base.artifacts.append(
            write_artifact(roots, project.target, rel, data, rel in built.executables)
        )
    return base
