"""The language registry.

Every language, Python and Go included, registers through the ``codeteam.toolchains``
entry-point group (see pyproject.toml), read once, on the first tool call that needs a
toolchain (never at start-up). An entry point names a factory taking the runtime prefix:
``mylang = "codeteam_mylang:MyToolchain"``. Adding a language is one module plus that line.
Where two distributions register the same language, codeteam's own wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codeteam.toolchains.base import Toolchain, ToolchainInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from codeteam.toolchains.plugins import Plugin

ENTRY_POINT_GROUP = "codeteam.toolchains"
#: The distribution whose toolchains are the built-in ones.
OWN_DISTRIBUTION = "codeteam"
#: The order lists show the built-in languages in (package metadata keeps none).
LISTED_FIRST = ("python", "go")


class UnknownLanguage(LookupError):
    """No toolchain is registered for the language: the message lists those that are."""


def registered() -> dict[str, Plugin]:
    """The group's entry points by language: codeteam's own first (in the order of
    :data:`LISTED_FIRST`), then the others by name."""
    from codeteam.toolchains.plugins import entry_points

    def own_first(ep: Plugin) -> tuple[bool, int, str]:
        own = ep.distribution == OWN_DISTRIBUTION
        rank = LISTED_FIRST.index(ep.name) if ep.name in LISTED_FIRST else len(LISTED_FIRST)
        return (not own, rank if own else 0, ep.name)

    found: dict[str, Plugin] = {}
    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=own_first):
        found.setdefault(ep.name, ep)
    return found


class Registry:
    """Toolchains by language, each created once and its :meth:`detect` answer cached."""

    def __init__(self, runtime: Path) -> None:
        self.runtime = runtime
        self._toolchains: dict[str, Toolchain] = {}
        self._detected: dict[str, ToolchainInfo] = {}
        self._registered: dict[str, Plugin] | None = None

    def _entry_points(self) -> dict[str, Plugin]:
        if self._registered is None:
            self._registered = registered()
        return self._registered

    def languages(self) -> list[str]:
        """Every registered language: the built-in ones first, then the others."""
        return list(self._entry_points())

    def get(self, language: str) -> Toolchain:
        toolchain = self._toolchains.get(language)
        if toolchain is not None:
            return toolchain
        entry = self._entry_points().get(language)
        if entry is None:
            raise UnknownLanguage(self._unknown(language))
        factory: Callable[[Path], Toolchain] = entry.load()
        toolchain = self._toolchains[language] = factory(self.runtime)
        return toolchain

    def _unknown(self, language: str) -> str:
        if not self._entry_points():
            return (
                f"unknown language {language!r}: no toolchain is registered (codeteam's "
                f"{ENTRY_POINT_GROUP} entry points are missing): reinstall codeteam, e.g. "
                "pip install -e ."
            )
        return f"unknown language {language!r}; available: {', '.join(self.languages())}"

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
