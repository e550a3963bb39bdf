"""A lazy tool catalog: the JSON ``tools/list`` answers with, known up front, and the specs
calls run, loaded on the first ``tools/call``; and the mapping of a tool to MCP's JSON.

Which tools a server offers, and where their precomputed listing comes from, is decided by
the composition root (:mod:`codeteam.assembly`), not here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from codeteam.protocol import jsonrpc

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms of start-up
if TYPE_CHECKING:
    from typing import Any

    from codeteam.tools.base import Annotations, ToolSpec


def annotations_json(annotations: Annotations) -> dict[str, Any]:
    """A tool's annotations under MCP's names (``readOnlyHint``...)."""
    return {
        "title": annotations.title,
        "readOnlyHint": annotations.read_only,
        "destructiveHint": annotations.destructive,
        "idempotentHint": annotations.idempotent,
        "openWorldHint": annotations.open_world,
    }


def tool_json(tool: ToolSpec) -> dict[str, Any]:
    """One entry of a ``tools/list`` result."""
    return {
        "name": tool.name,
        "title": tool.annotations.title,
        "description": tool.description,
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
        "annotations": annotations_json(tool.annotations),
    }


def listing_json(tools: Sequence[ToolSpec]) -> str:
    """The ``tools`` array of a ``tools/list`` result, as compact ASCII JSON."""
    return jsonrpc.dumps([tool_json(t) for t in tools])


class ToolCatalog:
    """Tool names and listing JSON known up front; the specs loaded on first use.

    ``regenerate`` is the command that rewrites a precomputed listing; a stale one is
    replaced by the live listing on first load, with a warning naming that command.
    """

    __slots__ = ("_load", "_specs", "listing", "names", "regenerate")

    def __init__(
        self,
        names: Sequence[str],
        listing: str,
        load: Callable[[], Sequence[ToolSpec]],
        regenerate: str = "",
    ) -> None:
        self.names = tuple(names)
        self.listing = listing
        self.regenerate = regenerate
        self._load = load
        self._specs: dict[str, ToolSpec] | None = None

    @classmethod
    def of(cls, tools: Sequence[ToolSpec]) -> ToolCatalog:
        """A catalog of specs already built (tests, ``CODETEAM_CATALOG``)."""
        tools = list(tools)
        catalog = cls([t.name for t in tools], listing_json(tools), lambda: tools)
        catalog._specs = {t.name: t for t in tools}
        return catalog

    def spec(self, name: str) -> ToolSpec | None:
        return self.load().get(name)

    def load(self) -> dict[str, ToolSpec]:
        """The specs by name, loaded now if they were not yet."""
        if self._specs is None:
            tools = list(self._load())
            self._specs = {t.name: t for t in tools}
            live = listing_json(tools)
            if live != self.listing:
                print(
                    "codeteam: the precomputed tools/list is stale (the live catalog differs); "
                    f"serving the live one. Run: {self.regenerate or 'the listing generator'}",
                    file=sys.stderr,
                )
                self.names = tuple(self._specs)
                self.listing = live
        return self._specs
