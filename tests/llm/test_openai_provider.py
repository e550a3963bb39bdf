"""The OpenAI-compatible provider through the real ``openai`` SDK against the fake."""

from __future__ import annotations

import pytest

from codeteam.llm import LLMError, ProviderConfig, ToolDef
from codeteam.llm.openai import OpenAIProvider
from tests.team.conftest import FAST, closed_port
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
