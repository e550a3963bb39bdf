"""Fixtures for the team's tests: fake model APIs on loopback, a stand-in MCP server."""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeteam.llm import ProviderConfig
from codeteam.llm.anthropic import AnthropicProvider
from codeteam.store import Store
from tests.team.fake_anthropic import FakeAnthropic, ModelRequest, Script

MINI_MCP = Path(__file__).with_name("mini_mcp.py")
#: Fast retries: the fake says retry-after-ms: 1, backoff for mid-stream errors is tiny.
FAST = ProviderConfig(max_retries=3, stream_retries=2, backoff_s=0.01, timeout_s=30)


def role(req: ModelRequest) -> str:
    """'lead', or the specialist kind ('code', 'test', ...) from the system prompt."""
    if "lead engineer" in req.system:
        return "lead"
    m = re.search(r"You are the (\w+) agent", req.system)
    return m.group(1) if m else "?"


def task_id(req: ModelRequest) -> str:
    m = re.search(r"Your task \(([^)]+)\)", req.first_text)
    return m.group(1) if m else ""


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mini_server(workspace: Path | None = None) -> str:
    """The stand-in server's command; without a workspace it is rooted at ``{root}``, so
    the team can start one per task copy."""
    return f"{sys.executable} {MINI_MCP} {workspace or '{root}'}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "runs.db")
    yield s
    s.close()


class Api:
    """A started fake plus a provider pointed at it."""

    def __init__(self, fake: FakeAnthropic, cfg: ProviderConfig = FAST) -> None:
        self.fake = fake
        self.provider = AnthropicProvider(
            "claude-test", api_key="test-key", base_url=fake.url, cfg=cfg
        )


@pytest.fixture
def anthropic_api() -> Iterator[type[FakeAnthropic]]:
    """Use as ``with anthropic_api(script) as fake``; kept a factory so each test scripts."""
    yield FakeAnthropic


def start(script: Script) -> FakeAnthropic:
    return FakeAnthropic(script)
