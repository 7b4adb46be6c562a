"""Tool calls in widgets: cards on the wire, approval from the view, Stop, chat turns, saved copy.

The model is `fake:` (`tests.support.FakeProvider`, in-process): it writes "Let me check.", calls
get_weather for Paris and, given the result, quotes it. Widgets send over a recording comm, so
what is checked is exactly what a view receives. A provider's own tool-turn detail (Gemini's
call signature) is checked through its real SDK and the loopback wire server.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from wire_server import WireServer

from llmwidgets import ChatWidget, StreamWidget
from llmwidgets._widgets import protocol
from llmwidgets._widgets.saved_copy import code_span, with_tool_cards
from tests.recording_comm import RecordingComm
from tests.support import FakeProvider, ended, until

pytestmark = pytest.mark.usefixtures("recorder")


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def weather_loop(fake: FakeProvider, name: str = "weather-loop") -> str:
    """Calls get_weather for Paris; given the result, quotes it (two requests, one answer)."""
    return fake.model(name, "Let me check.", calls=(("get_weather", '{"city": "Paris"}'),))


def widget(fake: FakeProvider, **kw: Any) -> StreamWidget:
    kw.setdefault("tools", [get_weather])
    return StreamWidget(weather_loop(fake), "Weather?", **kw)


def roles_of(request: Any) -> list[str]:
    return [m.role for m in request.messages]


def comm_of(w: Any) -> RecordingComm:
    assert isinstance(w.comm, RecordingComm)
    return w.comm


def tool_messages(w: StreamWidget) -> list[dict[str, Any]]:
    return [m for m in comm_of(w).customs() if m["type"] == protocol.TOOL]


# -- cards on the wire -------------------------------------------------------------------------
async def test_a_card_is_created_where_the_model_made_the_call(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    first = tool_messages(w)[0]
    assert first["name"] == "get_weather" and first["status"] == "streaming"
    assert first["at"] == len("Let me check.")


async def test_the_arguments_stream_as_tool_call_deltas(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    pieces = [d for d in comm_of(w).deltas() if d.get("part") == protocol.TOOL_CALL]
    assert "".join(p["text"] for p in pieces) == '{"city": "Paris"}'
    assert {p["id"] for p in pieces} == {tool_messages(w)[0]["id"]}


async def test_the_card_runs_then_shows_the_result_and_the_answer_goes_on(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    statuses = [m.get("status") for m in tool_messages(w)]
    assert statuses == ["streaming", "running", "done"]
    done = tool_messages(w)[-1]
    assert done["result"] == "sunny in Paris" and done["is_error"] is False
    assert "duration" in done
    assert "[sunny in Paris]" in w.text and w.status == "done"


async def test_every_message_takes_the_next_seq(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    seqs = [m["seq"] for m in comm_of(w).customs() if "seq" in m]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_a_snapshot_holds_the_cards(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    comm_of(w).view_says({"type": protocol.HELLO})
    snap = comm_of(w).customs()[-1]
    assert snap["type"] == protocol.SNAPSHOT
    assert [c["status"] for c in snap["tools"]] == ["done"]
    assert snap["tools"][0]["arguments"] == '{"city": "Paris"}'


async def test_the_ended_cards_are_kept_for_saved_widget_state(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    assert [c["name"] for c in w.final_tools] == ["get_weather"]
    assert w.final_tools[0]["result"] == "sunny in Paris"


# -- approval ----------------------------------------------------------------------------------
async def test_approve_true_waits_for_allow_from_the_view(fake: FakeProvider):
    w = widget(fake, approve=True)
    await until(lambda: w.pending_approvals)
    card = tool_messages(w)[-1]
    assert card["status"] == "approval"
    assert w.run is not None and w.run.cards[card["id"]].arguments == '{"city": "Paris"}'
    comm_of(w).view_says({"type": protocol.APPROVE, "id": card["id"], "allow": True})
    await ended(w)
    assert "[sunny in Paris]" in w.text


async def test_deny_from_the_view_tells_the_model_and_never_runs_the_tool(fake: FakeProvider):
    ran: list[str] = []

    def get_weather(city: str) -> str:
        ran.append(city)
        return "sunny"

    w = widget(fake, tools=[get_weather], approve=["get_weather"])
    await until(lambda: w.pending_approvals)
    w.approve_call(w.pending_approvals[0], allow=False)
    await ended(w)
    assert ran == [] and "declined" in w.text
    assert tool_messages(w)[-1]["status"] == "denied"


async def test_approval_only_for_named_tools_lets_the_others_run(fake: FakeProvider):
    w = widget(fake, approve=["delete_everything"])
    await ended(w)
    assert [m["status"] for m in tool_messages(w)] == ["streaming", "running", "done"]


# -- stop --------------------------------------------------------------------------------------
async def test_stop_during_a_slow_tool_cancels_its_card_and_keeps_the_text(fake: FakeProvider):
    def get_weather(city: str) -> str:
        time.sleep(0.5)
        return "late"

    w = widget(fake, tools=[get_weather])
    await until(lambda: any(m.get("status") == "running" for m in tool_messages(w)))
    comm_of(w).view_says({"type": protocol.STOP})
    await ended(w)
    assert w.status == "stopped" and w.text.startswith("Let me check.")
    assert tool_messages(w)[-1]["status"] == "cancelled"


async def test_a_chat_goes_on_after_a_stop_during_a_tool_call(fake: FakeProvider):
    def get_weather(city: str) -> str:
        time.sleep(0.5)
        return "late"

    chat = ChatWidget(weather_loop(fake), tools=[get_weather])
    first = chat.send("Weather?")
    run = first.run
    assert run is not None
    await until(lambda: any(c.status == "running" for c in run.cards.values()))
    first.stop()
    await ended(first)
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "tool"]
    asked = len(fake.requests)
    second = chat.send("And now?")
    await ended(second)
    assert second.status == "done"
    assert roles_of(fake.requests[asked]) == ["user", "assistant", "tool", "user"]


async def test_a_chat_sends_the_tool_turns_back_with_the_next_question(fake: FakeProvider):
    chat = ChatWidget(weather_loop(fake), tools=[get_weather])
    await chat.send("Weather?")
    second = chat.send("Thanks")
    await ended(second)
    sent = fake.requests[2]  # the first request of the second answer
    assert roles_of(sent) == ["user", "assistant", "tool", "assistant", "user"]
    assert sent.messages[2].content == "sunny in Paris"


# -- the saved copy ----------------------------------------------------------------------------
async def test_the_saved_copy_shows_each_call_where_it_was_made(fake: FakeProvider):
    w = widget(fake)
    await ended(w)
    md = w.markdown()
    assert md.index("Let me check.") < md.index("**Tool** `get_weather`") < md.index("The tools")
    assert 'Arguments: `{"city": "Paris"}`' in md and "Result: `sunny in Paris`" in md


def test_a_card_in_the_saved_copy_survives_backticks_in_its_result() -> None:
    md = with_tool_cards("Before.", [{"name": "f", "at": 7, "status": "done", "result": "a`b"}])
    assert "Result: ``a`b``" in md


def test_a_code_span_holds_any_run_of_backticks() -> None:
    assert code_span("x ``` y") == "````x ``` y````"
    assert code_span("`edge`") == "`` `edge` ``"


async def test_stop_while_a_call_waits_for_approval_cancels_its_card(fake: FakeProvider):
    w = widget(fake, approve=True)
    await until(lambda: w.pending_approvals)
    w.stop()
    await ended(w)
    assert w.status == "stopped" and tool_messages(w)[-1]["status"] == "cancelled"


async def test_every_pane_of_a_comparison_runs_its_own_tool_loop(fake: FakeProvider):
    from llmwidgets import Pane, compare

    grid = compare(
        [Pane(weather_loop(fake, "one")), Pane(weather_loop(fake, "two"))],
        "Weather?",
        tools=[get_weather],
    )
    await grid
    assert all("[sunny in Paris]" in text for text in grid.texts)
    assert all(p.final_tools[0]["status"] == "done" for p in grid.panes)


async def test_regenerate_after_a_tool_turn_asks_again_without_the_old_calls(fake: FakeProvider):
    chat = ChatWidget(weather_loop(fake), tools=[get_weather])
    await chat.send("Weather?")
    asked = len(fake.requests)
    again = chat.regenerate()
    await ended(again)
    assert roles_of(fake.requests[asked]) == ["user"]
    assert "[sunny in Paris]" in again.text


@pytest.mark.usefixtures("fake_api_keys")
async def test_a_chat_keeps_what_providers_want_back_with_a_tool_turn(wire_server: WireServer):
    """Gemini's call signature must travel with the call into the next question's request."""
    chat = ChatWidget(
        "google:weather-loop", base_url=wire_server.gemini_base_url, tools=[get_weather]
    )
    await chat.send("Weather?")
    calls = [c for t in chat._turns for m in t.as_messages() for c in m.tool_calls]
    assert calls and all(c.thought_signature for c in calls)


async def test_a_chat_started_from_messages_with_tool_turns_shows_and_sends_them(
    fake: FakeProvider,
):
    first = ChatWidget(weather_loop(fake), tools=[get_weather])
    await first.send("Weather?")
    again = ChatWidget(weather_loop(fake), tools=[get_weather], messages=first.messages)
    assert again.messages == first.messages
    shown = again._turns[1].answer
    assert shown is not None and shown.final_tools[0]["result"] == "sunny in Paris"
    assert shown.final_tools[0]["at"] == len("Let me check.")
    asked = len(fake.requests)
    second = again.send("Thanks")
    await ended(second)
    assert roles_of(fake.requests[asked]) == ["user", "assistant", "tool", "assistant", "user"]


def test_a_tool_result_with_no_call_before_it_is_refused() -> None:
    with pytest.raises(ValueError, match="must follow the call"):
        ChatWidget("replay:short", messages=[{"role": "tool", "content": "x", "tool_call_id": "1"}])
