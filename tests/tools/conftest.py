"""A small real context for calling the tools directly: real Services, real sandbox
(bubblewrap as root), sample projects copied into a world-readable workspace."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codeteam.config import Settings
from codeteam.tools.services import Services

collect_ignore = ["projects"]  # sample projects with deliberately failing tests

PROJECTS = Path(__file__).parent / "projects"
RUNTIME = Path("/opt/codeteam/runtime")


def require_sandbox() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bubblewrap is missing: CI must install it (scripts/install.sh)")
        pytest.skip("bubblewrap is not installed")
    if not (RUNTIME / "bin" / "python").exists():
        pytest.skip(f"the sandbox runtime {RUNTIME} is missing: run scripts/install.sh")


class Context:
    """The :class:`codeteam.tools.base.ToolContext` a tool gets, recording progress."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self._settings = settings
        self._services = services
        self.progress_calls: list[tuple[float, float | None, str | None]] = []

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def services(self) -> Any:
        return self._services

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        self.progress_calls.append((progress, total, message))


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    """One state dir (Go build cache) for the session: keeps Go builds warm across tests."""
    path = Path(tempfile.mkdtemp(prefix="codeteam-tools-state-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A world-readable root (the sandbox's unprivileged uid must read the project) holding
    copies of the sample projects."""
    path = Path(tempfile.mkdtemp(prefix="codeteam-ws-"))
    path.chmod(0o755)
    shutil.copytree(PROJECTS, path, dirs_exist_ok=True)
    for folder, _dirs, files in os.walk(path):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_context(workspace: Path, state_dir: Path, **overrides: Any) -> Context:
    overrides.setdefault("runtime", RUNTIME)
    settings = Settings(roots=(workspace,), state_dir=state_dir, **overrides)
    return Context(settings, Services.from_settings(settings))


@pytest.fixture
async def ctx(workspace: Path, state_dir: Path) -> Any:
    require_sandbox()
    context = make_context(workspace, state_dir)
    yield context
    await context.services.aclose()
