"""What a dataset is to the eval harness: problems with a starting workspace, and a scorer.

A problem's hidden tests never appear here: only :meth:`Dataset.score` reads them, after the
agents have finished, so nothing the agents can see (prompt, files, tool results) holds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

#: Calls one MCP tool of the scoring server by name with arguments and returns its
#: ``structuredContent`` (raises on a tool error result): scoring runs through the same tools
#: and sandbox as the agents, never in the harness's own process.
ToolCaller = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Problem:
    dataset: str
    id: str  # unique within the dataset, e.g. "HumanEval/0" or "ttl-cache"
    language: str  # a toolchain name: "python" | "go"
    prompt: str  # the task as the agents are told it
    files: Mapping[str, bytes]  # the workspace the agents start from (relative path -> bytes)
    canonical: Mapping[str, bytes]  # files that solve it (written over ``files``)
    wrong: Mapping[str, bytes] = field(default_factory=dict)  # a plausible wrong answer


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str | None = None  # why it failed, one line (None when passed)
    detail: Mapping[str, Any] = field(default_factory=dict)  # e.g. per-test outcomes


class Dataset(Protocol):
    name: str

    def problems(self) -> list[Problem]:
        """Every problem, in a stable order."""
        ...

    async def score(self, problem: Problem, workspace: Path, call: ToolCaller) -> Verdict:
        """Run the hidden tests against what ``workspace`` holds now (the agents' result)."""
        ...
