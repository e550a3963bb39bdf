"""The Anthropic provider through the real SDK against the fake Messages API (streamed)."""

from __future__ import annotations

import time

import pytest

from codeteam.llm import LLMError, ProviderConfig, ToolDef
from codeteam.llm.anthropic import AnthropicProvider
from tests.team.conftest import FAST, closed_port
from tests.team.fake_anthropic import (
    FakeAnthropic,
    HttpError,
    ModelRequest,
    Reply,
    StreamError,
    text,
    tool_use,
)

TOOL = ToolDef(
    "echo", "echo the input", {"type": "object", "properties": {"x": {"type": "string"}}}
)
USER = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def provider(fake: FakeAnthropic) -> AnthropicProvider:
    return AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=FAST)


async def test_streamed_turn_returns_text_and_tool_use_blocks_with_usage() -> None:
    use = tool_use("echo", x="hello")
    with FakeAnthropic(lambda r: Reply([text("Let me echo."), use], input_tokens=42)) as fake:
        p = provider(fake)
        turn = await p.turn(system="sys", messages=USER, tools=[TOOL], max_tokens=100)
        await p.aclose()
    assert turn.stop_reason == "tool_use"
    assert turn.content == [text("Let me echo."), use]
    assert turn.usage.input_tokens == 42 and turn.usage.output_tokens == 20
    body = fake.calls[0].body
    assert body["stream"] is True and body["system"] == "sys" and body["max_tokens"] == 100
    assert body["tools"][0]["input_schema"]["type"] == "object"


async def test_429_and_529_are_retried_then_succeed() -> None:
    answers = iter([HttpError(429, "rate_limit_error"), HttpError(529, "overloaded_error")])

    def script(r: ModelRequest) -> Reply | HttpError:
        return next(answers, Reply([text("ok")]))

    with FakeAnthropic(script) as fake:
        p = provider(fake)
        turn = await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert turn.text == "ok"
    assert [r.status for r in fake.calls] == [429, 529, 200]


async def test_persistent_529_becomes_an_llm_error_naming_it() -> None:
    with FakeAnthropic(lambda r: HttpError(529, "overloaded_error", "Overloaded")) as fake:
        p = provider(fake)
        with pytest.raises(LLMError, match=r"HTTP 529.*overloaded_error"):
            await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert len(fake.calls) == FAST.max_retries + 1


async def test_a_refused_connection_fails_at_once_in_one_line() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    # Default backoff: retrying a refused connection would take over 10 s.
    p = AnthropicProvider("claude-test", api_key="k", base_url=url, cfg=ProviderConfig())
    started = time.monotonic()
    with pytest.raises(LLMError) as err:
        await p.turn(system="", messages=USER, tools=[], max_tokens=10)
    await p.aclose()
    assert time.monotonic() - started < 5
    assert str(err.value) == (
        f"cannot reach the model endpoint {url} (connection refused): "
        "check --base-url / ANTHROPIC_BASE_URL"
    )


async def test_a_read_timeout_is_retried() -> None:
    answers = iter([Reply([text("late")], delay=5)])
    with FakeAnthropic(lambda r: next(answers, Reply([text("in time")]))) as fake:
        cfg = ProviderConfig(timeout_s=0.5, backoff_s=0.01)
        p = AnthropicProvider("claude-test", api_key="k", base_url=fake.url, cfg=cfg)
        turn = await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert turn.text == "in time" and turn.attempts == 2


async def test_a_400_is_not_retried() -> None:
    with FakeAnthropic(lambda r: HttpError(400, "invalid_request_error", "bad")) as fake:
        p = provider(fake)
        with pytest.raises(LLMError, match=r"HTTP 400, invalid_request_error\): bad$"):
            await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert len(fake.calls) == 1


async def test_mid_stream_error_event_is_retried_by_the_provider() -> None:
    answers = iter([StreamError("overloaded_error")])
    with FakeAnthropic(lambda r: next(answers, Reply([text("recovered")]))) as fake:
        p = provider(fake)
        turn = await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert turn.text == "recovered" and turn.attempts == 2
    assert len(fake.calls) == 2


async def test_mid_stream_errors_that_persist_give_up_after_the_bound() -> None:
    with FakeAnthropic(lambda r: StreamError("api_error", "boom")) as fake:
        p = provider(fake)
        with pytest.raises(LLMError, match="mid-stream"):
            await p.turn(system="", messages=USER, tools=[], max_tokens=10)
        await p.aclose()
    assert len(fake.calls) == FAST.stream_retries + 1


async def test_truncated_tool_use_reports_max_tokens() -> None:
    reply = Reply([tool_use("echo", x="a long argument " * 5)], cut_json=True)
    with FakeAnthropic(lambda r: reply) as fake:
        p = provider(fake)
        turn = await p.turn(system="", messages=USER, tools=[TOOL], max_tokens=10)
        await p.aclose()
    assert turn.stop_reason == "max_tokens"


@pytest.mark.parametrize(
    ("body_change", "message"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"messages": [{"role": "system", "content": "x"}, *USER]}, "role"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}, "non-empty"),
        (
            {"tools": [{"name": "t", "input_schema": {"type": "object", "anyOf": []}}]},
            "anyOf",
        ),
        (
            {
                "messages": [
                    *USER,
                    {"role": "assistant", "content": [tool_use("echo", x="1")]},
                    {"role": "user", "content": [{"type": "text", "text": "no result"}]},
                ]
            },
            "tool_result",
        ),
        (
            {"messages": [*USER, {"role": "user", "content": "again"}]},
            "alternate",
        ),
    ],
)
async def test_fake_rejects_what_the_real_api_rejects(body_change: dict, message: str) -> None:
    import anthropic

    with FakeAnthropic(lambda r: Reply([text("never")])) as fake:
        client = anthropic.AsyncAnthropic(api_key="k", base_url=fake.url, max_retries=0)
        body = {"model": "m", "max_tokens": 10, "messages": USER, **body_change}
        with pytest.raises(anthropic.BadRequestError, match=message):
            await client.post(
                "/v1/messages",
                body={k: v for k, v in body.items() if v is not None},
                cast_to=object,
            )
        await client.close()


async def test_tool_results_after_text_in_a_user_message_are_rejected() -> None:
    use = tool_use("echo", x="1")
    messages = [
        *USER,
        {"role": "assistant", "content": [use]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "here"},
                {"type": "tool_result", "tool_use_id": use["id"], "content": "1"},
            ],
        },
    ]
    with FakeAnthropic(lambda r: Reply([text("never")])) as fake:
        p = provider(fake)
        with pytest.raises(LLMError, match="come first"):
            await p.turn(system="", messages=messages, tools=[TOOL], max_tokens=10)
        await p.aclose()
