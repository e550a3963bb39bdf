"""The language registry.

Python and Go are registered here by name (no package-metadata scan at start-up); other
languages come from the ``codeteam.toolchains`` entry-point group, read only when a
language is asked for that is not built in. An entry point names a factory taking the
runtime prefix: ``mylang = "codeteam_mylang:MyToolchain"``. Adding a language is one
module plus that line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeteam.toolchains.base import Toolchain, ToolchainInfo

ENTRY_POINT_GROUP = "codeteam.toolchains"

#: language -> "module:factory"; imported on first use.
BUILTINS: dict[str, str] = {
    "python": "codeteam.toolchains.python:PythonToolchain",
    "go": "codeteam.toolchains.go:GoToolchain",
}


class UnknownLanguage(LookupError):
    """No toolchain is registered for the language: the message lists those that are."""


def _load(reference: str) -> Callable[[Path], Toolchain]:
    module, _, attr = reference.partition(":")
    factory: Callable[[Path], Toolchain] = getattr(importlib.import_module(module), attr)
    return factory


class Registry:
    """Toolchains by language, each created once and its :meth:`detect` answer cached."""

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self._toolchains: dict[str, Toolchain] = {}
        self._detected: dict[str, ToolchainInfo] = {}
        self._plugins: dict[str, Any] | None = None

    def _entry_points(self) -> dict[str, Any]:
        if self._plugins is None:
            from importlib.metadata import entry_points

            self._plugins = {
                ep.name: ep
                for ep in entry_points(group=ENTRY_POINT_GROUP)
                if ep.name not in BUILTINS
            }
        return self._plugins

    def languages(self) -> list[str]:
        """Every language: built-ins first, then plugins (this reads package metadata)."""
        return [*BUILTINS, *sorted(self._entry_points())]

    def get(self, language: str) -> Toolchain:
        toolchain = self._toolchains.get(language)
        if toolchain is not None:
            return toolchain
        if language in BUILTINS:
            factory = _load(BUILTINS[language])
        elif language in self._entry_points():
            factory = self._entry_points()[language].load()
        else:
            raise UnknownLanguage(
                f"unknown language {language!r}; available: {', '.join(self.languages())}"
            )
        toolchain = self._toolchains[language] = factory(self.runtime)
        return toolchain

    def detect(self, language: str) -> ToolchainInfo:
        info = self._detected.get(language)
        if info is None:
            info = self._detected[language] = self.get(language).detect()
        return info

    def for_path(self, root: Path, target: Path) -> str | None:
        """The language of ``target``: its suffix for a file; for a directory, the nearest
        project marker (go.mod, pyproject.toml ...) from it up to ``root``, else the most
        common source suffix in it."""
        toolchains = {lang: self.get(lang) for lang in self.languages()}
        if target.is_file():
            return next(
                (lang for lang, tc in toolchains.items() if target.suffix in tc.file_suffixes), None
            )
        for folder in (target, *target.parents):
            for lang, tc in toolchains.items():
                if any((folder / m).is_file() for m in tc.project_markers):
                    return lang
            if folder == root or not folder.is_relative_to(root):
                break
        counts = dict.fromkeys(toolchains, 0)
        for seen, path in enumerate(target.rglob("*")):
            if seen > 5000:
                break
            for lang, tc in toolchains.items():
                if path.suffix in tc.file_suffixes:
                    counts[lang] += 1
        best = max(counts, key=lambda lang: counts[lang], default=None)
        return best if best is not None and counts[best] else None
