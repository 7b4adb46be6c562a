"""What a StreamWidget sends out of a real kernel, message by message (ipykernel + jupyter_client).

The recording-comm tests check the content of the messages; these check their envelopes, which
only a real kernel produces: which messages carry the cell's parent header and how many state
updates a stream costs.
"""

from __future__ import annotations

from typing import Any

import pytest
from kernel_client import Kernel

pytestmark = pytest.mark.kernel

STREAM = (
    "from llmwidgets import StreamWidget\n"
    "w = StreamWidget('replay:short', 'hi', delay=0.002)\n"
    "display(w)\n"
    "await w"
)


def comm_messages(messages: list[dict[str, Any]], model_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in messages
        if m["msg_type"] == "comm_msg" and m["content"].get("comm_id") == model_id
    ]


def streamed(k: Kernel) -> tuple[str, list[dict[str, Any]], str]:
    """Run one stream to its end; (model id, the widget's comm messages, the cell's msg id)."""
    ex = k.execute(STREAM, timeout=60)
    assert ex.reply["status"] == "ok", ex.reply
    shown, _saved_copy_slot = ex.of_type("display_data")
    model_id = shown["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    (request,) = {
        m["parent_header"]["msg_id"] for m in ex.iopub if m["msg_type"] == "execute_input"
    }
    return model_id, comm_messages(ex.iopub, model_id), request


def test_deltas_go_out_without_the_cells_parent_header(kernel: Kernel) -> None:
    _, messages, _ = streamed(kernel)
    deltas = [m for m in messages if m["content"]["data"].get("method") == "custom"]
    assert len(deltas) > 3
    assert all(m["parent_header"] == {} for m in deltas)
    assert "".join(m["content"]["data"]["content"]["text"] for m in deltas) == kernel.value(
        "w.text"
    )


def test_state_updates_keep_the_cells_parent_header(kernel: Kernel) -> None:
    _, messages, request = streamed(kernel)
    updates = [m for m in messages if m["content"]["data"].get("method") == "update"]
    assert updates
    assert all(m["parent_header"].get("msg_id") == request for m in updates)


def test_a_stream_costs_three_state_updates_start_streaming_end(kernel: Kernel) -> None:
    _, messages, _ = streamed(kernel)
    updates = [
        m["content"]["data"]["state"]
        for m in messages
        if m["content"]["data"].get("method") == "update"
    ]
    assert [u.get("status") for u in updates] == ["waiting", "streaming", "done"]


def test_an_awaited_answer_sends_its_saved_copy_once(kernel: Kernel) -> None:
    """The end fills the slot; awaiting in the same cell must not send the copy again."""
    ex = kernel.execute(STREAM, timeout=60)
    view, slot = ex.of_type("display_data")
    (update,) = ex.of_type("update_display_data")
    assert update["transient"]["display_id"] == slot["transient"]["display_id"]
    assert "display_id" not in view.get("transient", {})  # the live view is never updated
    assert "<li>" in update["data"]["text/html"] or "<p>" in update["data"]["text/html"]


def test_a_wait_magic_sends_its_saved_copy_once(kernel: Kernel) -> None:
    kernel.execute("%load_ext llmwidgets")
    ex = kernel.execute("%%llm replay:short -O delay=0.002 --wait\nhi", timeout=60)
    assert len(ex.of_type("display_data")) == 2
    assert len(ex.of_type("update_display_data")) == 1
