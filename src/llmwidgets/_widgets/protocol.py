"""The messages between a widget in the kernel and its views, defined once per side.

`js/src/protocol.js` is the view's half, and `tests/test_protocol.py` keeps the two equal. Text
travels as append-only deltas numbered by `seq`; a view that lost its place says `hello` and gets
a snapshot (the text as of delta `seq`); `reset` starts a new answer. Small state (status,
metrics, error) is synced as traits, not as messages.

An answer has typed parts (`PARTS`): the text, and the model's thinking. Each delta appends to one
part; a text delta is the plain `{type, seq, text}` it always was, any other part says which it is
(`part`), and all parts share one `seq` sequence, so one gap check and one snapshot cover them
all. A snapshot holds the text under `text` and each other part under its own name when not empty.

Tool calls are cards. A `tool` message creates or updates one card (`id`): its name, where it sits
in the answer (`at`: the length of the text when the model made the call, so the view splits the
text there and the text stays one append-only string), its status and, once known, its whole
arguments, result and duration. While the model streams a call's arguments they grow as deltas of
part `tool_call` naming the card (`id`). Card messages are numbered in the same `seq` sequence, and
a snapshot lists every card (`tools`) as it stands. A card whose status is `approval` shows Allow
and Deny; the view answers with `approve`.
"""

from __future__ import annotations

from typing import Any, Final, Literal

#: Message types by direction; the same table as `MESSAGES` in js/src/protocol.js.
MESSAGES: Final = {
    "kernelToView": {"DELTA": "delta", "SNAPSHOT": "snapshot", "RESET": "reset", "TOOL": "tool"},
    "viewToKernel": {"HELLO": "hello", "STOP": "stop", "APPROVE": "approve"},
    "chatInputToKernel": {
        "SEND": "send",
        "STOP": "stop",
        "REGENERATE": "regenerate",
        "CLEAR": "clear",
    },
    #: The comparison's Stop all button.
    "compareToKernel": {"STOP_ALL": "stop_all"},
    "parts": {"TEXT": "text", "THINKING": "thinking", "TOOL_CALL": "tool_call"},
    #: A tool card's status: arguments still streaming, waiting for Allow/Deny, the function
    #: running, and how it ended.
    "toolStatuses": {
        "STREAMING": "streaming",
        "APPROVAL": "approval",
        "RUNNING": "running",
        "DONE": "done",
        "ERROR": "error",
        "DENIED": "denied",
        "CANCELLED": "cancelled",
    },
}

Part = Literal["text", "thinking", "tool_call"]
TEXT: Final = "text"
THINKING: Final = "thinking"
TOOL_CALL: Final = "tool_call"
TOOL: Final = MESSAGES["kernelToView"]["TOOL"]
APPROVE: Final = MESSAGES["viewToKernel"]["APPROVE"]

DELTA: Final = MESSAGES["kernelToView"]["DELTA"]
SNAPSHOT: Final = MESSAGES["kernelToView"]["SNAPSHOT"]
RESET: Final = MESSAGES["kernelToView"]["RESET"]
HELLO: Final = MESSAGES["viewToKernel"]["HELLO"]
STOP: Final = MESSAGES["viewToKernel"]["STOP"]
CHAT_SEND: Final = MESSAGES["chatInputToKernel"]["SEND"]
CHAT_STOP: Final = MESSAGES["chatInputToKernel"]["STOP"]
CHAT_REGENERATE: Final = MESSAGES["chatInputToKernel"]["REGENERATE"]
CHAT_CLEAR: Final = MESSAGES["chatInputToKernel"]["CLEAR"]
STOP_ALL: Final = MESSAGES["compareToKernel"]["STOP_ALL"]


def delta(
    seq: int,
    text: str,
    metrics: dict[str, Any] | None = None,
    part: Part = TEXT,
    call_id: str | None = None,
) -> dict[str, Any]:
    """The next piece of one part of the answer; live metrics ride along a few times a second.

    A text delta names no part, so the text path costs what it did before parts existed. A
    `tool_call` delta is a piece of that call's arguments (`id`: the card).
    """
    message: dict[str, Any] = {"type": DELTA, "seq": seq, "text": text}
    if part != TEXT:
        message["part"] = part
    if call_id is not None:
        message["id"] = call_id
    if metrics is not None:
        message["metrics"] = metrics
    return message


def snapshot(
    seq: int, text: str, thinking: str = "", tools: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The whole answer as of delta `seq`, for a view that said hello: the text, and the
    thinking and tool cards when there are any."""
    message: dict[str, Any] = {"type": SNAPSHOT, "seq": seq, "text": text}
    if thinking:
        message[THINKING] = thinking
    if tools:
        message["tools"] = tools
    return message


def tool(seq: int, card: dict[str, Any]) -> dict[str, Any]:
    """Create or update a tool card: `card` holds `id` and the fields that are new or changed
    (`name`, `at`, `status`, `arguments`, `result`, `is_error`, `duration`)."""
    return {"type": TOOL, "seq": seq, **card}


def reset() -> dict[str, Any]:
    """A new answer starts in this widget: views clear the old one and expect seq 1."""
    return {"type": RESET}


def message_type(content: Any) -> str | None:
    """The `type` of a message from a view, or None for anything that is not one of ours."""
    if not isinstance(content, dict):
        return None
    kind = content.get("type")
    return kind if isinstance(kind, str) else None
