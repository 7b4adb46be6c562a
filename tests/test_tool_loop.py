"""The tool loop: Python functions called by the model, over the real SDKs and loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

import llmwidgets
from llmwidgets._errors import ConfigurationError, ToolLoopError
from llmwidgets._tools import DECLINED, Tool
from tests.support import SDK_PROVIDERS, base_url_for

PROVIDERS = SDK_PROVIDERS


def base_url(server: Any, provider: str) -> str:
    return base_url_for(server, provider)


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Current weather for a city.

    Args:
        city: The city's name, e.g. "Paris".
        unit: Degrees to answer in.
    """
    return f"18 degrees {unit} and sunny in {city}"


def get_time(tz: str) -> str:
    """The time now in a time zone."""
    return f"12:00 in {tz}"


async def run_loop(server: Any, provider: str, scenario: str, **kwargs: Any) -> Any:
    s = llmwidgets.stream(
        f"{provider}:{scenario}", "Weather?", base_url=base_url(server, provider), **kwargs
    )
    events = []
    async with s:
        async for chunk in s:
            if chunk.tool_event is not None:
                events.append((chunk.tool_event.call.name, chunk.tool_event.status))
    return s, events


# -- schemas -----------------------------------------------------------------------------------
def test_a_functions_schema_comes_from_its_type_hints_and_docstring() -> None:
    tool = Tool.from_function(get_weather)
    assert tool.name == "get_weather" and tool.description == "Current weather for a city."
    assert tool.parameters["required"] == ["city"]
    props = tool.parameters["properties"]
    assert props["city"] == {"type": "string", "description": 'The city\'s name, e.g. "Paris".'}
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["unit"]["default"] == "celsius"


def test_a_pydantic_field_description_is_kept() -> None:
    def forecast(days: Annotated[int, Field(description="How many days ahead", ge=1)]) -> str:
        """Forecast."""
        return ""

    prop = Tool.from_function(forecast).parameters["properties"]["days"]
    assert prop["description"] == "How many days ahead" and prop["minimum"] == 1


# -- the loop ----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_function_runs_with_the_streamed_arguments_and_the_answer_uses_its_result(
    wire_server: Any, fake_api_keys: str, provider: str
):
    s, events = await run_loop(wire_server, provider, "weather-loop", tools=[get_weather])
    r = s.response
    assert "[18 degrees celsius and sunny in Paris]" in r.text
    assert r.text.startswith("Let me check.")
    assert events == [("get_weather", "running"), ("get_weather", "done")]
    assert r.finish_reason == "stop"
    assert len(wire_server.requests) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_result_reaches_the_next_request_in_each_apis_shape(
    wire_server: Any, fake_api_keys: str, provider: str
):
    await run_loop(wire_server, provider, "weather-loop", tools=[get_weather])
    assert "18 degrees celsius and sunny in Paris" in json.dumps(wire_server.requests[1].body)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_the_second_request_carries_the_call_and_its_result(
    wire_server: Any, fake_api_keys: str, provider: str
):
    await run_loop(wire_server, provider, "weather-loop", tools=[get_weather])
    second = wire_server.requests[1].body
    tools = second["tools"]
    assert [t.get("name") or t["function"]["name"] for t in tools] == ["get_weather"]
    assert "18 degrees celsius and sunny in Paris" in str(second["messages"])
    first_call_id = "call_w1" if provider == "openai" else "toolu_w1"  # as each wire spells it
    assert str(second["messages"]).count(first_call_id) == 2  # the call, and its result


async def test_the_response_holds_every_turn_for_the_next_request(
    wire_server: Any, openai_key: str
):
    s, _ = await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    turns = [(m.role, bool(m.tool_calls)) for m in s.response.messages]
    assert turns == [("assistant", True), ("tool", False), ("assistant", False)]
    assert s.response.messages[1].tool_call_id == "call_w1"
    assert s.response.tool_calls[0].parsed_arguments == {"city": "Paris"}


async def test_usage_adds_up_every_step(wire_server: Any, openai_key: str):
    s, _ = await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    usage = s.response.usage
    assert usage is not None and usage.input_tokens == 12 + 40 and usage.output_tokens == 34 + 12


async def test_two_calls_in_one_turn_both_run_and_both_results_are_quoted(
    wire_server: Any, openai_key: str
):
    s, events = await run_loop(
        wire_server, "openai", "parallel-loop", tools=[get_weather, get_time]
    )
    assert "[18 degrees celsius and sunny in Paris]; [12:00 in Europe/Paris]" in s.response.text
    assert sorted(events) == sorted(
        [
            ("get_weather", "running"),
            ("get_time", "running"),
            ("get_weather", "done"),
            ("get_time", "done"),
        ]
    )


async def test_sync_tools_run_in_a_worker_thread(wire_server: Any, openai_key: str):
    threads: list[str] = []

    def get_weather(city: str) -> str:
        threads.append(threading.current_thread().name)
        return "sunny"

    await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    assert threads and threads[0] != threading.main_thread().name


async def test_async_tools_are_awaited_on_the_loop(wire_server: Any, openai_key: str):
    async def get_weather(city: str) -> str:
        await asyncio.sleep(0)
        return f"async weather in {city}"

    s, _ = await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    assert "[async weather in Paris]" in s.response.text


async def test_a_tool_that_raises_sends_the_error_to_the_model_and_the_answer_goes_on(
    wire_server: Any, openai_key: str
):
    def get_weather(city: str) -> str:
        raise RuntimeError("weather service down")

    s, events = await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    assert "[RuntimeError: weather service down]" in s.response.text
    assert events[-1] == ("get_weather", "error")
    assert s.response.finish_reason == "stop"


async def test_arguments_that_do_not_fit_the_signature_go_back_as_an_error(
    wire_server: Any, openai_key: str
):
    def get_weather(town: str) -> str:
        return "never called"

    s, events = await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather])
    assert "Invalid arguments for get_weather" in s.response.text
    assert events[-1] == ("get_weather", "error")


async def test_a_loop_that_never_ends_stops_at_max_tool_steps_with_a_clear_error(
    wire_server: Any, openai_key: str
):
    with pytest.raises(ToolLoopError, match="max_tool_steps=3"):
        await run_loop(wire_server, "openai", "endless-loop", tools=[get_weather], max_tool_steps=3)
    assert len(wire_server.requests) == 4


async def test_raw_tool_definitions_come_back_to_the_caller_unrun(
    wire_server: Any, openai_key: str
):
    spec = Tool.from_function(get_weather).spec()
    s, events = await run_loop(wire_server, "openai", "weather-loop", tools=[spec])
    assert events == [] and len(wire_server.requests) == 1
    assert s.response.finish_reason == "tool_calls"
    assert s.response.tool_calls[0].name == "get_weather"


# -- approval ----------------------------------------------------------------------------------
async def test_a_declined_call_tells_the_model_the_user_declined(wire_server: Any, openai_key: str):
    ran: list[str] = []

    def get_weather(city: str) -> str:
        ran.append(city)
        return "sunny"

    s, events = await run_loop(
        wire_server, "openai", "weather-loop", tools=[get_weather], approve=lambda call: False
    )
    assert ran == [] and f"[{DECLINED}]" in s.response.text
    assert events == [("get_weather", "approval"), ("get_weather", "denied")]


async def test_an_approved_call_runs(wire_server: Any, openai_key: str):
    asked: list[dict[str, Any] | None] = []

    async def approve(call: Any) -> bool:
        asked.append(call.parsed_arguments)
        return True

    s, _ = await run_loop(
        wire_server, "openai", "weather-loop", tools=[get_weather], approve=approve
    )
    assert asked == [{"city": "Paris"}] and "sunny in Paris" in s.response.text


async def test_approve_true_without_a_widget_names_the_fix(wire_server: Any, openai_key: str):
    with pytest.raises(ConfigurationError, match="approve=lambda call"):
        await run_loop(wire_server, "openai", "weather-loop", tools=[get_weather], approve=True)


# -- stop --------------------------------------------------------------------------------------
async def test_stop_while_a_slow_tool_runs_leaves_a_conversation_the_next_request_accepts(
    wire_server: Any, openai_key: str
):
    def get_weather(city: str) -> str:
        time.sleep(1.0)
        return "too late"

    s = llmwidgets.stream(
        "openai:weather-loop", "Weather?", base_url=wire_server.openai_base_url, tools=[get_weather]
    )

    async def consume() -> None:
        async for chunk in s:
            if chunk.tool_event is not None and chunk.tool_event.status == "running":
                raise asyncio.CancelledError  # what Stop does to the task, mid-call

    started = time.perf_counter()
    with pytest.raises(asyncio.CancelledError):
        await consume()
    await s.aclose()
    assert time.perf_counter() - started < 0.9  # not held up by the thread
    turns = s.response.messages
    assert [m.role for m in turns] == ["assistant", "tool"]
    assert turns[1].tool_call_id == "call_w1" and "cancelled" in turns[1].content
    follow_up = [{"role": "user", "content": "Weather?"}, *turns]
    r = await llmwidgets.complete(
        "openai:plain-text", follow_up, base_url=wire_server.openai_base_url
    )
    assert r.finish_reason == "stop"


# -- thinking and tools ------------------------------------------------------------------------
async def test_anthropic_gets_its_signed_thinking_back_with_the_tool_calls(
    wire_server: Any, fake_api_keys: str
):
    s, _ = await run_loop(
        wire_server, "anthropic", "thinking-weather-loop", tools=[get_weather], thinking=True
    )
    assert "[18 degrees celsius and sunny in Paris]" in s.response.text
    turn = wire_server.requests[1].body["messages"][1]
    assert turn["content"][0]["type"] == "thinking"
    assert turn["content"][0]["thinking"] == "The user wants the weather."
    assert turn["content"][0]["signature"].startswith("EqQBCkYIBxgCKkBsig")
    assert [b["type"] for b in turn["content"]] == ["thinking", "text", "tool_use"]


async def test_the_loopback_server_refuses_a_tool_turn_without_its_thinking_like_the_api(
    wire_server: Any, fake_api_keys: str
):
    """The check above proves something only if an unsigned turn is refused."""
    unsigned = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
    ]
    with pytest.raises(llmwidgets.InvalidRequestError, match="Expected `thinking`"):
        await llmwidgets.complete(
            "anthropic:thinking-weather-loop",
            unsigned,
            base_url=wire_server.anthropic_base_url,
            thinking=True,
        )
