"""The composition root: which tools ``codeteam serve`` offers, from which listing, with
which long-lived services. The only place that asks whether the team is on.

``tools/list`` over stdio is answered before the settings or any tool module are imported,
so the listing is precomputed (:mod:`.builtin_listing`, :mod:`.team_listing`, written by
``python -m codeteam.assembly.listings``) and this module imports nothing but ``os``.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    from collections.abc import Mapping

    from codeteam.config import Settings
    from codeteam.protocol.catalog import ToolCatalog
    from codeteam.tools.base import ToolSpec
    from codeteam.tools.services import Services

#: ``module:function`` returning ``list[ToolSpec]``; replaces the built-in catalog
#: (tests use it to serve fake tools; also a way to serve extra tools).
CATALOG_ENV = "CODETEAM_CATALOG"
#: ``anthropic`` or ``openai`` turns the team tools on; ``off`` turns them off even with
#: ANTHROPIC_API_KEY set.
PROVIDER_ENV = "CODETEAM_TEAM_PROVIDER"
#: Where the team tools record their runs (default: the user's data directory).
TEAM_DB_ENV = "CODETEAM_TEAM_DB"
REGENERATE = "python -m codeteam.assembly.listings"


def team_provider(environ: Mapping[str, str]) -> str | None:
    """The provider the team tools use, or None when they are off."""
    chosen = environ.get(PROVIDER_ENV, "").strip().lower()
    if chosen in ("off", "0", "no", "false"):
        return None
    if chosen:
        return chosen
    return "anthropic" if environ.get("ANTHROPIC_API_KEY") else None


def team_settings(environ: Mapping[str, str]) -> dict[str, object]:
    """The team's part of :class:`codeteam.config.Settings`, read from ``environ``."""
    from pathlib import Path

    db = environ.get(TEAM_DB_ENV)
    return {"team_provider": team_provider(environ), "team_db": Path(db) if db else None}


def load_catalog(spec: str | None = None) -> list[ToolSpec]:
    """The tools to serve: ``spec`` (``module:function``), else ``$CODETEAM_CATALOG``,
    else the built-in catalog."""
    spec = spec or os.environ.get(CATALOG_ENV)
    if not spec:
        from codeteam.tools.catalog import builtin_tools

        return list(builtin_tools())
    module_name, _, func_name = spec.partition(":")
    import importlib

    from codeteam.config import ConfigError

    try:
        factory = getattr(importlib.import_module(module_name), func_name or "builtin_tools")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{CATALOG_ENV}={spec!r} cannot be loaded ({exc}); use module:function"
        ) from None
    return list(factory())


def serving_catalog(environ: Mapping[str, str] = os.environ) -> ToolCatalog:
    """``$CODETEAM_CATALOG`` built now; else the built-in tools (and, with a team provider
    configured, the team's) listed from their precomputed JSON, the specs loaded later."""
    from codeteam.protocol.catalog import ToolCatalog

    if environ.get(CATALOG_ENV):
        return ToolCatalog.of(load_catalog(environ[CATALOG_ENV]))
    from codeteam.assembly import builtin_listing

    if team_provider(environ):
        from codeteam.assembly import team_listing

        listing = builtin_listing.TOOLS_JSON[:-1] + "," + team_listing.TOOLS_JSON[1:]
        names = builtin_listing.NAMES + team_listing.NAMES
        return ToolCatalog(names, listing, builtin_and_team_tools, REGENERATE)
    return ToolCatalog(builtin_listing.NAMES, builtin_listing.TOOLS_JSON, builtin_tools, REGENERATE)


def builtin_tools() -> list[ToolSpec]:
    from codeteam.tools.catalog import builtin_tools

    return list(builtin_tools())


def team_tools() -> list[ToolSpec]:
    from codeteam.team.tools import team_tools

    return team_tools()


def builtin_and_team_tools() -> list[ToolSpec]:
    return builtin_tools() + team_tools()


def make_services(settings: Settings) -> Services:
    from codeteam.tools.services import Services

    return Services.from_settings(settings)
