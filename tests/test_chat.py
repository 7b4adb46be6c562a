"""ChatWidget, kernel side: turns, the requests each answer makes, and the input box's messages.

The provider is the real OpenAI SDK talking HTTP to the loopback wire server, which records each
request body; the input box is driven through the chat's (recording) comm as a browser would
drive it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmwidgets._errors import ProviderError
from llmwidgets._widgets.chat import ChatTurn, ChatWidget
from llmwidgets._widgets.saved_copy import EMPTY_SLOT
from llmwidgets._widgets.stream import StreamWidget
from tests.recording_comm import RecordingComm
from tests.support import text_model, until

pytestmark = pytest.mark.usefixtures("openai_key", "recorder")

ANSWER = "Monads wrap values. They **chain** steps."
LONG = "".join(f"word{i} " for i in range(2000))


def chat_with(wire: Any, text: str = ANSWER, delay: float = 0.001, **kw: Any) -> ChatWidget:
    model = text_model(wire, "answer", text, delay=delay)
    return ChatWidget(model, base_url=wire.openai_base_url, **kw)


def sent_messages(wire: Any, n: int = -1) -> list[dict[str, Any]]:
    """The `messages` of the n-th chat-completions request the server received."""
    bodies = [r.body for r in wire.requests if r.path.endswith("/chat/completions")]
    return bodies[n]["messages"]


def input_comm(chat: ChatWidget) -> RecordingComm:
    assert isinstance(chat.comm, RecordingComm)
    return chat.comm


# -- sending -------------------------------------------------------------------------------


async def test_send_adds_a_user_turn_and_a_streamed_answer(wire_server):
    chat = chat_with(wire_server)
    response = await chat.send("What is a monad?")
    assert response.text == ANSWER
    assert [(t.role, t.content) for t in chat.history] == [
        ("user", "What is a monad?"),
        ("assistant", ANSWER),
    ]
    assert [t["role"] for t in chat.turns] == ["user", "assistant"]
    assert isinstance(chat.turns[1]["answer"], StreamWidget)


async def test_the_second_request_carries_the_whole_conversation(wire_server):
    chat = chat_with(wire_server)
    await chat.send("First?")
    await chat.send("Second?")
    assert sent_messages(wire_server) == [
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": ANSWER},
        {"role": "user", "content": "Second?"},
    ]


async def test_the_system_prompt_goes_first_in_every_request_and_in_messages(wire_server):
    chat = chat_with(wire_server, system="Be terse.")
    await chat.send("One")
    await chat.send("Two")
    for n in (0, 1):
        assert sent_messages(wire_server, n)[0] == {"role": "system", "content": "Be terse."}
    assert chat.messages[0] == {"role": "system", "content": "Be terse."}
    assert [m["role"] for m in chat.messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]


async def test_a_given_history_is_shown_as_turns_and_sent_with_the_next_message(wire_server):
    given = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Ahoy!"},
    ]
    chat = chat_with(wire_server, messages=given)
    assert chat.messages == given
    assert len(chat.turns) == 2
    await chat.send("Where is the treasure?")
    assert sent_messages(wire_server) == [
        *given,
        {"role": "user", "content": "Where is the treasure?"},
    ]


async def test_a_saved_answer_gives_a_view_its_text_on_hello(wire_server):
    chat = chat_with(
        wire_server,
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Ahoy!"}],
    )
    saved = chat.turns[1]["answer"]
    assert isinstance(saved.comm, RecordingComm)
    saved.comm.view_says({"type": "hello"})
    assert saved.comm.customs()[-1] == {"type": "snapshot", "seq": 0, "text": "Ahoy!"}
    assert (saved.status, saved.final_text) == ("done", "Ahoy!")


async def test_messages_is_in_openai_format_and_reusable(wire_server):
    chat = chat_with(wire_server, system="S")
    await chat.send("Q")
    again = ChatWidget(chat.model, messages=chat.messages, base_url=wire_server.openai_base_url)
    assert (
        again.messages
        == chat.messages
        == [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": ANSWER},
        ]
    )


async def test_history_has_usage_and_timings_for_answers(wire_server):
    chat = chat_with(wire_server)
    await chat.send("Q")
    user, answer = chat.history
    assert isinstance(answer, ChatTurn)
    assert (user.role, user.response, user.usage) == ("user", None, None)
    assert answer.status == "done"
    assert answer.usage is not None and answer.usage.output_tokens > 0
    assert answer.ttft is not None and answer.total_time is not None
    assert 0 < answer.ttft <= answer.total_time
    assert answer.model.startswith("openai:text:answer")


async def test_empty_messages_are_refused(wire_server):
    chat = chat_with(wire_server)
    with pytest.raises(ValueError, match="empty"):
        chat.send("   \n")
    assert chat.history == []


# -- stop, regenerate, clear ---------------------------------------------------------------


async def test_stop_keeps_the_partial_answer_and_the_chat_stays_usable(wire_server):
    chat = chat_with(wire_server, LONG, delay=0.005)
    first = chat.send("Long one")
    await until(lambda: len(first.text) > 20)
    chat.stop()
    response = await chat
    assert first.status == "stopped"
    assert response.finish_reason == "cancelled"
    partial = chat.history[1].content
    assert 0 < len(partial) < len(LONG)
    wire_server.add_text("answer", ANSWER)
    await chat.send("Short one")
    assert sent_messages(wire_server)[1] == {"role": "assistant", "content": partial}
    assert chat.history[-1].content == ANSWER


async def test_sending_while_an_answer_streams_stops_it_first(wire_server):
    chat = chat_with(wire_server, LONG, delay=0.005)
    first = chat.send("Long one")
    await until(lambda: len(first.text) > 20)
    wire_server.add_text("answer", ANSWER)
    second = chat.send("Never mind")
    await second
    assert first.status == "stopped"
    assert sent_messages(wire_server)[1]["content"] == first.final_text
    assert [t.role for t in chat.history] == ["user", "assistant", "user", "assistant"]


async def test_two_sends_in_one_cell_end_the_first_answer_as_stopped(wire_server):
    chat = chat_with(wire_server)
    first = chat.send("One")
    await chat.send("Two")
    await asyncio.wait_for(first.wait(), 2)
    assert first.status == "stopped"


async def test_regenerate_replaces_the_last_answer_without_sending_it(wire_server):
    chat = chat_with(wire_server)
    await chat.send("Q")
    old = chat.current
    new = chat.regenerate()
    await new
    assert new is not old and old.comm is None  # the old answer's widget is closed
    assert sent_messages(wire_server) == [{"role": "user", "content": "Q"}]
    assert [t.role for t in chat.history] == ["user", "assistant"]
    assert chat.turns[-1]["answer"] is new


async def test_regenerate_while_streaming_stops_the_old_answer(wire_server):
    chat = chat_with(wire_server, LONG, delay=0.005)
    old = chat.send("Q")
    await until(lambda: len(old.text) > 20)
    new = chat.regenerate()
    await until(lambda: old.status == "stopped" and old.comm is None)
    assert [t.role for t in chat.history] == ["user", "assistant"]
    assert chat.current is new
    new.stop()
    await chat


async def test_regenerate_with_nothing_sent_says_so(wire_server):
    chat = chat_with(wire_server)
    with pytest.raises(RuntimeError, match="Nothing to regenerate"):
        chat.regenerate()


async def test_clear_empties_the_transcript_and_messages(wire_server):
    chat = chat_with(wire_server)
    await chat.send("Q")
    chat.clear()
    assert chat.messages == []
    assert chat.history == []
    assert chat.turns == []


async def test_clear_keeps_the_system_prompt(wire_server):
    chat = chat_with(wire_server, system="S")
    await chat.send("Q")
    chat.clear()
    assert chat.messages == [{"role": "system", "content": "S"}]


# -- errors --------------------------------------------------------------------------------


async def test_an_error_shows_as_a_turn_and_the_next_send_works(wire_server):
    chat = ChatWidget("openai:http-500", base_url=wire_server.openai_base_url)
    failed = chat.send("Q1")
    with pytest.raises(ProviderError):
        await chat
    assert failed.status == "error" and failed.error is not None
    assert chat.history[1].status == "error" and chat.history[1].error is not None
    assert chat.busy is False
    wire_server.add_text("answer", ANSWER)
    chat.model = "openai:text:answer?chunk=4&delay=0"
    response = await chat.send("Q2")
    assert response.text == ANSWER
    assert len(chat.history) == 4


async def test_errored_answers_are_left_out_of_messages(wire_server):
    chat = ChatWidget("openai:error-mid-stream", base_url=wire_server.openai_base_url)
    chat.send("Q1")
    with pytest.raises(ProviderError):
        await chat
    assert chat.history[1].content  # the partial answer is kept on screen
    assert chat.messages == [{"role": "user", "content": "Q1"}]


async def test_an_unknown_alias_fails_as_a_turn_at_once(wire_server):
    chat = ChatWidget("no-such-alias-here")
    answer = chat.send("Q")
    assert answer.status == "error"
    assert chat.busy is False
    assert chat.history[1].status == "error"


# -- the input box -------------------------------------------------------------------------


async def test_the_input_send_message_sends_like_python(wire_server):
    chat = chat_with(wire_server)
    input_comm(chat).view_says({"type": "send", "text": "From the box"})
    assert chat.busy is True
    await chat
    assert chat.history[0].content == "From the box"
    assert chat.busy is False


async def test_busy_follows_the_answer_and_is_synced_to_the_view(wire_server):
    chat = chat_with(wire_server)
    await chat.send("Q")
    busy_states = [u["busy"] for u in input_comm(chat).state_updates() if "busy" in u]
    assert busy_states == [True, False]


async def test_the_input_stop_message_stops_the_answer(wire_server):
    chat = chat_with(wire_server, LONG, delay=0.005)
    answer = chat.send("Q")
    await until(lambda: len(answer.text) > 20)
    input_comm(chat).view_says({"type": "stop"})
    await chat
    assert answer.status == "stopped"


async def test_the_input_regenerate_and_clear_messages_act(wire_server):
    chat = chat_with(wire_server)
    await chat.send("Q")
    first = chat.current
    input_comm(chat).view_says({"type": "regenerate"})
    assert chat.current is not first
    await chat
    input_comm(chat).view_says({"type": "clear"})
    assert chat.history == []


async def test_a_send_from_the_box_while_busy_is_ignored(wire_server):
    chat = chat_with(wire_server, LONG, delay=0.005)
    answer = chat.send("Q")
    await until(lambda: answer.text)
    input_comm(chat).view_says({"type": "send", "text": "Impatient"})
    assert [t.content for t in chat.history if t.role == "user"] == ["Q"]
    answer.stop()
    await chat


async def test_the_input_recalls_the_user_messages(wire_server):
    chat = chat_with(wire_server, messages=[{"role": "user", "content": "Old"}])
    assert chat.recall == ["Old"]
    assert chat.has_turns is True  # so Regenerate is enabled
    await chat.regenerate()
    await chat.send("New")
    assert chat.recall == ["Old", "New"]


async def test_the_view_gets_user_text_as_text_and_answers_as_model_references(wire_server):
    # The view sets user text as textContent, never as HTML (js/test/containers.test.js).
    chat = chat_with(wire_server)
    answer = chat.send("<img src=x onerror=alert(1)> & <b>bold</b>")
    await answer
    turns = [u["turns"] for u in input_comm(chat).state_updates() if "turns" in u][-1]
    assert turns == [
        {"role": "user", "text": "<img src=x onerror=alert(1)> & <b>bold</b>"},
        {"role": "assistant", "answer": f"IPY_MODEL_{answer.model_id}"},
    ]


async def test_the_chat_is_one_anywidget_drawn_by_the_shared_bundle(wire_server):
    chat = chat_with(wire_server)
    state = chat.get_state()
    assert state["_llmw_view"] == "chat"
    assert state["_assets"] == f"IPY_MODEL_{StreamWidget()._assets.model_id}"
    assert len(state["_esm"]) < 5000  # the loader, not the bundle


# -- display -------------------------------------------------------------------------------


async def test_the_saved_copy_holds_the_transcript_once_idle(wire_server):
    chat = chat_with(wire_server)
    assert chat.saved_copy() == EMPTY_SLOT
    await chat.send("What is a monad?")
    assert chat.markdown().startswith("**You:** What is a monad?\n\n" + ANSWER)
    page = chat.saved_copy()["text/html"]
    assert "<p><strong>You:</strong> What is a monad?</p>" in page


def record_displays(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """(shown, updates): what the widget passed to IPython's display and update_display."""
    import IPython.display

    shown: list[Any] = []
    updates: list[Any] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    monkeypatch.setattr(IPython.display, "update_display", lambda obj, **kw: updates.append(obj))
    return shown, updates


async def test_showing_the_chat_gives_the_live_view_and_an_empty_saved_copy_slot(
    wire_server, monkeypatch
):
    shown, _ = record_displays(monkeypatch)
    chat = chat_with(wire_server)
    chat._ipython_display_()
    (view, view_kw), (slot, slot_kw) = shown
    assert view["application/vnd.jupyter.widget-view+json"]["model_id"] == chat.model_id
    assert "display_id" not in view_kw  # the live view is never updated, so never rebuilt
    assert slot == EMPTY_SLOT and slot_kw["display_id"]


async def test_each_answers_end_updates_the_saved_copy(wire_server, monkeypatch):
    _, updates = record_displays(monkeypatch)
    chat = chat_with(wire_server)
    chat._ipython_display_()
    await chat.send("One")
    await chat.send("Two")
    assert len(updates) == 2
    assert "<strong>You:</strong> Two" in updates[-1]["text/html"]


async def test_awaiting_the_chat_where_the_copy_went_out_sends_nothing_more(
    wire_server, monkeypatch
):
    _, updates = record_displays(monkeypatch)
    chat = chat_with(wire_server)
    chat._ipython_display_()
    chat.send("One")
    await chat
    await chat
    assert len(updates) == 1


async def test_awaiting_the_chat_from_another_cell_sends_the_saved_copy_again(
    wire_server, monkeypatch
):
    from llmwidgets._widgets import saved_copy

    _, updates = record_displays(monkeypatch)
    chat = chat_with(wire_server)
    chat._ipython_display_()
    chat.send("One")
    monkeypatch.setattr(saved_copy, "_parent_msg_id", lambda: "cell-1")
    await chat.current.wait()
    monkeypatch.setattr(saved_copy, "_parent_msg_id", lambda: "cell-2")
    await chat
    assert len(updates) == 2
    assert all("<strong>You:</strong> One" in u["text/html"] for u in updates)
