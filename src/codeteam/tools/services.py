"""The server's long-lived parts the tools share: the executor and the toolchain registry.

Created on the first tool call, never at start-up; creating it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from codeteam.config import Settings
from codeteam.executor import Executor
from codeteam.toolchains import Registry, UnknownLanguage
from codeteam.toolchains.base import Toolchain
from codeteam.tools.base import ToolError

if TYPE_CHECKING:
    import asyncio

    from codeteam.tools.toolchains_tool import ToolchainsResult


@dataclass
class Services:
    settings: Settings
    #: runs every spec with the server's limits and output cap (which one: --executor)
    executor: Executor
    toolchains: Registry
    #: ``list_toolchains``' answer, detected once for this server's registry (see
    #: :mod:`codeteam.tools.toolchains_tool`)
    toolchain_listing: asyncio.Task[ToolchainsResult] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        from codeteam.executor import create

        return cls(settings, create(settings), Registry(settings.runtime))

    def toolchain(self, language: str) -> Toolchain:
        """The toolchain for ``language``, or a :class:`ToolError` saying what exists."""
        try:
            return self.toolchains.get(language)
        except UnknownLanguage as exc:
            raise ToolError(str(exc)) from None

    async def aclose(self) -> None:
        await self.executor.aclose()
