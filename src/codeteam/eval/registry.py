"""The datasets ``codeteam eval`` knows, by name, each imported only when chosen."""

from __future__ import annotations

import importlib
import importlib.util

from codeteam.config import ConfigError
from codeteam.eval.problems import Dataset, Problem

#: Dataset name -> the module that defines it (a class or object whose ``name`` is it).
MODULES = {"humaneval": "codeteam.eval.humaneval", "go": "codeteam.eval.go"}


def names() -> list[str]:
    """The datasets installed here (a module may be absent: not every build ships it)."""
    return [n for n, m in MODULES.items() if importlib.util.find_spec(m) is not None]


def dataset(name: str) -> Dataset:
    if name not in names():
        raise ConfigError(f"unknown dataset {name!r}: choose one of {', '.join(names())}")
    module = importlib.import_module(MODULES[name])
    for value in vars(module).values():
        if getattr(value, "name", None) == name and hasattr(value, "problems"):
            found: Dataset = value() if isinstance(value, type) else value
            return found
    raise ConfigError(f"dataset module {MODULES[name]} defines no dataset named {name!r}")


def choose(problems: list[Problem], ids: list[str] | None, limit: int | None) -> list[Problem]:
    """The problems an eval runs: those named (in dataset order), then the first ``limit``."""
    if ids:
        known = {p.id for p in problems}
        unknown = [i for i in ids if i not in known]
        if unknown:
            sample = ", ".join(p.id for p in problems[:3])
            raise ConfigError(
                f"unknown problem id(s) {', '.join(map(repr, unknown))} in "
                f"{problems[0].dataset if problems else 'the dataset'}: ids look like {sample}"
            )
        wanted = set(ids)
        problems = [p for p in problems if p.id in wanted]
    if limit is not None:
        if limit < 1:
            raise ConfigError("--limit must be at least 1")
        problems = problems[:limit]
    return problems
