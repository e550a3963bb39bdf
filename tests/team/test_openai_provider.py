"""The OpenAI-compatible provider through the real ``openai`` SDK against the fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeteam.llm import LLMError, ProviderConfig, ToolDef
from codeteam.llm.openai import OpenAIProvider
from codeteam.store import Store
from codeteam.team.config import TeamConfig
from codeteam.team.runner import run_team
from tests.team.conftest import FAST, closed_port, mini_server
from tests.team.fake_openai import ChatReply, FakeOpenAI

TOOL = ToolDef("echo", "echo", {"type": "object", "properties": {"x": {"type": "string"}}})


async def test_streamed_tool_calls_come_back_as_tool_use_blocks() -> None:
    with FakeOpenAI(lambda b: ChatReply("thinking", [("call_1", "echo", {"x": "hi"})])) as fake:
        p = OpenAIProvider("m", api_key="k", base_url=fake.url + "/v1", cfg=FAST)
        turn = await p.turn(
            system="sys", messages=[{"role": "user", "content": "go"}], tools=[TOOL], max_tokens=50
        )
        await p.aclose()
    assert turn.stop_reason == "tool_use"
    assert turn.content[1] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "echo",
        "input": {"x": "hi"},
    }
    assert turn.usage.input_tokens == 50 and turn.usage.output_tokens == 7
    body = fake.requests[0].body
    assert body["messages"][0] == {"role": "system", "content": "sys"}
    assert body["stream"] is True and body["tools"][0]["function"]["name"] == "echo"


async def test_a_refused_connection_fails_at_once_naming_the_setting() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    p = OpenAIProvider("m", api_key="k", base_url=url, cfg=ProviderConfig())
    with pytest.raises(LLMError) as err:
        await p.turn(
            system="", messages=[{"role": "user", "content": "go"}], tools=[], max_tokens=5
        )
    await p.aclose()
    assert str(err.value) == (
        f"cannot reach the model endpoint {url} (connection refused): "
        "check --base-url / OPENAI_BASE_URL"
    )


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
