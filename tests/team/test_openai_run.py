"""A whole team run over the OpenAI-compatible protocol: the official ``openai`` SDK against
the local fake Chat Completions server, the lead and a specialist through a real MCP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codeteam.llm.openai import OpenAIProvider
from codeteam.store import Store
from codeteam.team.config import TeamConfig
from codeteam.team.runner import run_team
from tests.team.conftest import FAST, mini_server
from tests.team.fake_openai import ChatReply, FakeOpenAI


async def test_a_whole_run_over_the_openai_protocol(tmp_path: Path, store: Store) -> None:
    def script(body: dict[str, Any]) -> ChatReply:
        system = body["messages"][0]["content"]
        turns = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if "lead engineer" in system:
            if turns == 0:
                return ChatReply(
                    tool_calls=[
                        ("c1", "assign_task", {"id": "w", "agent": "code", "description": "write"})
                    ]
                )
            return ChatReply("REPORT: " + body["messages"][-1]["content"])
        if turns == 0:
            return ChatReply(tool_calls=[("c2", "write_file", {"path": "x.txt", "content": "hi"})])
        return ChatReply("wrote x.txt")

    ws = tmp_path / "ws"
    with FakeOpenAI(script) as fake:
        p = OpenAIProvider("local-model", api_key="unused", base_url=fake.url + "/v1", cfg=FAST)
        cfg = TeamConfig(request="write x", workspace=ws, mcp_server=mini_server(ws))
        result = await run_team(cfg, p, store)
        await p.aclose()
    assert fake.rejections == []
    assert result.status == "completed" and result.tasks["w"].ok
    assert result.report.startswith("REPORT: task w (code) wrote x.txt")
    assert (ws / "x.txt").read_text() == "hi"
