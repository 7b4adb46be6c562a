"""StreamWidget and its streamer, kernel side: what a view receives, over a recording comm.

The model is `fake:` (`tests.support.FakeProvider`), answering in the test's own loop: these
tests are about the widget. The two about the wire (Stop closing the HTTP response, a key never
reaching widget state) use the real OpenAI SDK against the loopback wire server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from llmwidgets import ProviderError, StreamWidget
from llmwidgets._errors import AuthenticationError, ConfigurationError
from llmwidgets._pricing import PRICES, Price
from tests.recording_comm import RecordingComm
from tests.support import FakeProvider, ended, text_model

SAMPLE = "# Title\n\nSome **bold** text, a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n"


def widget(model: str, **kw: Any) -> StreamWidget:
    return StreamWidget(model, "hi", **kw)


def wire_widget(wire: Any, model: str, **kw: Any) -> StreamWidget:
    return StreamWidget(model, "hi", base_url=wire.openai_base_url, **kw)


def comm_of(w: StreamWidget) -> RecordingComm:
    assert isinstance(w.comm, RecordingComm)
    return w.comm


async def test_deltas_arrive_in_sequence_and_rebuild_the_answer(recorder, fake: FakeProvider):
    w = widget(fake.model("t", SAMPLE, chunk=3, delay=0.002))
    await ended(w)
    deltas = comm_of(w).deltas()
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert "".join(d["text"] for d in deltas) == SAMPLE
    assert w.text == SAMPLE


async def test_each_byte_of_the_answer_is_sent_once(recorder, fake: FakeProvider):
    answer = "word " * 4000
    w = widget(fake.model("t", answer, chunk=5))
    await ended(w)
    sent = sum(len(d["text"]) for d in comm_of(w).deltas())
    assert sent == len(answer)


async def test_deltas_are_batched_on_the_clock(recorder, fake: FakeProvider):
    answer = "x" * 2000  # 500 chunks, ~1 ms apart
    w = widget(fake.model("t", answer, chunk=4, delay=0.001), flush_interval=0.05)
    await ended(w)
    n = len(comm_of(w).deltas())
    elapsed = w.run.metrics().elapsed  # type: ignore[union-attr]
    assert n < 500 / 5
    assert n <= elapsed / 0.05 + 3


async def test_the_first_token_is_sent_at_once(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "a" * 40, chunk=1, delay=0.02), flush_interval=10)
    for _ in range(200):
        await asyncio.sleep(0.01)
        if comm_of(w).deltas():
            break
    first = comm_of(w).deltas()[0]
    assert (first["seq"], first["text"]) == (1, "a")
    assert first["metrics"]["estimated"] is True
    w.stop()
    await ended(w)


async def test_the_end_sets_final_text_status_and_exact_usage(recorder, fake: FakeProvider):
    w = widget(fake.model("t", SAMPLE))
    response = await w
    assert w.final_text == SAMPLE == response.text
    assert w.status == "done"
    assert w.metrics["estimated"] is False
    assert w.metrics["output_tokens"] == response.usage.output_tokens  # type: ignore[union-attr]
    assert response.finish_reason == "stop"
    assert w.model_label.startswith("fake:t")


async def test_status_is_waiting_then_streaming_then_done(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "abc" * 50, chunk=3, delay=0.005))
    seen = [w.status]
    w.observe(lambda ch: seen.append(ch["new"]), "status")
    await ended(w)
    assert seen == ["waiting", "streaming", "done"]


async def test_hello_gets_a_snapshot_and_later_deltas_continue_after_it(
    recorder, fake: FakeProvider
):
    answer = "".join(f"{i:04d} " for i in range(400))
    w = widget(fake.model("t", answer, chunk=5, delay=0.002))
    while len(comm_of(w).deltas()) < 3:
        await asyncio.sleep(0.005)
    comm_of(w).view_says({"type": "hello"})
    snap = next(c for c in comm_of(w).customs() if c["type"] == "snapshot")
    await ended(w)
    later = [d for d in comm_of(w).deltas() if d["seq"] > snap["seq"]]
    assert [d["seq"] for d in later] == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(later)))
    assert snap["text"] + "".join(d["text"] for d in later) == answer


async def test_a_view_reporting_a_gap_is_resynced_with_a_snapshot(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "abcdef" * 20))
    await ended(w)
    comm_of(w).view_says({"type": "hello"})
    snap = comm_of(w).customs()[-1]
    assert snap["type"] == "snapshot"
    assert snap["text"] == "abcdef" * 20
    assert snap["seq"] == comm_of(w).deltas()[-1]["seq"]


async def test_stop_keeps_the_partial_answer_and_closes_the_http_stream(
    recorder, wire_server, openai_key
):
    w = wire_widget(wire_server, text_model(wire_server, "t", "y" * 4000, chunk=4, delay=0.005))
    while len(w.text) < 40:
        await asyncio.sleep(0.005)
    stopped_at = time.monotonic()
    w.stop()
    await ended(w)
    partial = w.text
    assert w.status == "stopped"
    assert 40 <= len(partial) < 4000
    assert w.final_text == partial
    assert w.response is not None and w.response.finish_reason == "cancelled"
    for _ in range(100):
        if wire_server.disconnects:
            break
        await asyncio.sleep(0.002)
    assert wire_server.disconnects, "the server never saw the client go away"
    assert wire_server.disconnects[-1].at - stopped_at < 0.1


async def test_stop_from_the_view_is_the_same_as_stop_from_python(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "z" * 4000, chunk=4, delay=0.005))
    while not w.text:
        await asyncio.sleep(0.005)
    comm_of(w).view_says({"type": "stop"})
    await ended(w)
    assert w.status == "stopped"
    sent_after_stop = len(comm_of(w).deltas())
    await asyncio.sleep(0.05)
    assert len(comm_of(w).deltas()) == sent_after_stop


async def test_an_error_mid_stream_is_shown_and_keeps_the_partial_answer(
    recorder, fake: FakeProvider
):
    w = widget(fake.model("t", "Partial answer ", chunk=8, error="Overloaded", error_after=2))
    with pytest.raises(ProviderError) as err:
        await w
    assert w.status == "error"
    assert w.error is not None and w.error["title"] == "Provider error"
    assert w.error["message"]
    assert w.final_text and w.final_text == err.value.partial_text == w.text


async def test_an_unknown_alias_is_an_error_in_the_widget_and_sends_nothing(
    recorder, fake: FakeProvider
):
    w = StreamWidget("no-such-alias", "hi")
    assert w.status == "error"
    assert w.error is not None and "Aliases that exist" in w.error["message"]
    assert fake.requests == []
    with pytest.raises(ConfigurationError):
        await w


async def test_a_new_stream_in_the_same_widget_resets_the_view(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "first"))
    await ended(w)
    w.start(fake.model("t", "second"), "again")
    await ended(w)
    customs = comm_of(w).customs()
    reset_at = max(i for i, c in enumerate(customs) if c["type"] == "reset")
    after = [c for c in customs[reset_at:] if c["type"] == "delta"]
    assert after[0]["seq"] == 1
    assert "".join(d["text"] for d in after) == "second" == w.final_text


async def test_api_keys_never_reach_widget_state(recorder, wire_server, openai_key, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRETSECRET123456")
    w = wire_widget(wire_server, "openai:http-401")
    with pytest.raises(AuthenticationError):
        await w
    everything = repr([s.data for s in comm_of(w).log]) + repr(w.get_state())
    assert "SECRETSECRET" not in everything
    assert w.error is not None and "OPENAI_API_KEY" in w.error["message"]


async def test_stop_before_the_stream_has_begun_ends_it_as_stopped(recorder, fake: FakeProvider):
    w = widget(fake.model("t", "never sent"))
    w.stop()
    response = await asyncio.wait_for(w.wait(), 2)
    assert w.status == "stopped"
    assert response.finish_reason == "cancelled" and response.text == ""


async def test_every_widget_shares_one_front_end_bundle(recorder, fake: FakeProvider):
    a = widget(fake.model("a", "a"))
    b = widget(fake.model("b", "b"))
    await ended(a)
    await ended(b)
    assert a._assets is b._assets
    opened = [s for c in recorder.comms for s in c.log if s.msg_type == "comm_open"]
    bundle_bytes = [s.size for s in opened if "bundle" in s.data.get("state", {})]
    assert len(bundle_bytes) <= 1
    stream_opens = [s for s in opened if s.data["state"].get("_assets")]
    assert all(s.size < 5_000 for s in stream_opens)


async def test_a_closed_widget_and_its_answer_are_freed(recorder, fake: FakeProvider):
    import gc
    import weakref

    w = widget(fake.model("t", "x" * 1000))
    await ended(w)
    ref = weakref.ref(w)
    run_ref = weakref.ref(w.run)  # type: ignore[arg-type]
    w.close()
    del w
    recorder.comms.clear()  # a real kernel's comm manager drops closed comms too
    gc.collect()
    assert ref() is None and run_ref() is None


async def test_the_end_does_not_resend_the_answer(recorder, fake: FakeProvider):
    answer = "word " * 2000
    w = widget(fake.model("t", answer, chunk=50))
    await ended(w)
    payload = sum(s.size for s in comm_of(w).log if s.msg_type == "comm_msg")
    assert payload < 1.2 * len(answer)
    assert not any("final_text" in u for u in comm_of(w).state_updates())


async def test_the_plain_text_output_of_a_long_answer_is_a_readable_excerpt(
    recorder, fake: FakeProvider
):
    answer = "para " * 2000
    w = widget(fake.model("t", answer, chunk=100))
    await ended(w)
    bundle = w.saved_copy()
    assert "<p>" + answer.rstrip() in bundle["text/html"]
    plain = bundle["text/plain"]
    assert plain.startswith("para para") and len(plain) < 2200
    assert "more characters" in plain


async def test_a_stopped_answer_from_a_free_model_still_costs_nothing(recorder):
    w = widget("replay:long", delay=0.01)
    while len(w.text) < 40:
        await asyncio.sleep(0.005)
    w.stop()
    await ended(w)
    assert w.status == "stopped"
    assert w.metrics["estimated"] is True  # no usage arrived
    assert w.metrics["cost"] == 0.0


async def test_a_stopped_answer_from_a_priced_model_has_no_cost_rather_than_a_guess(
    recorder, wire_server, openai_key, monkeypatch
):
    monkeypatch.setitem(PRICES["openai"], "text:priced", Price(1.0, 1.0))
    w = wire_widget(wire_server, text_model(wire_server, "priced", "y" * 4000, delay=0.005))
    while len(w.text) < 40:
        await asyncio.sleep(0.005)
    w.stop()
    await ended(w)
    assert w.metrics["estimated"] is True
    assert w.metrics["cost"] is None
