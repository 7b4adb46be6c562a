"""The messages between a widget in the kernel and its views, defined once per side.

`js/src/protocol.js` is the view's half, and `tests/test_protocol.py` keeps the two equal. Text
travels as append-only deltas numbered by `seq`; a view that lost its place says `hello` and gets
a snapshot (the text as of delta `seq`); `reset` starts a new answer. Small state (status,
metrics, error) is synced as traits, not as messages.

An answer has typed parts (`PARTS`): the text, and the model's thinking. Each delta appends to one
part; a text delta is the plain `{type, seq, text}` it always was, any other part says which it is
(`part`), and all parts share one `seq` sequence, so one gap check and one snapshot cover them
all. A snapshot holds the text under `text` and each other part under its own name when not empty.
"""

from __future__ import annotations

from typing import Any, Final, Literal

#: Message types by direction; the same table as `MESSAGES` in js/src/protocol.js.
MESSAGES: Final = {
    "kernelToView": {"DELTA": "delta", "SNAPSHOT": "snapshot", "RESET": "reset"},
    "viewToKernel": {"HELLO": "hello", "STOP": "stop"},
    "chatInputToKernel": {
        "SEND": "send",
        "STOP": "stop",
        "REGENERATE": "regenerate",
        "CLEAR": "clear",
    },
    "parts": {"TEXT": "text", "THINKING": "thinking"},
}

Part = Literal["text", "thinking"]
TEXT: Final = "text"
THINKING: Final = "thinking"

DELTA: Final = MESSAGES["kernelToView"]["DELTA"]
SNAPSHOT: Final = MESSAGES["kernelToView"]["SNAPSHOT"]
RESET: Final = MESSAGES["kernelToView"]["RESET"]
HELLO: Final = MESSAGES["viewToKernel"]["HELLO"]
STOP: Final = MESSAGES["viewToKernel"]["STOP"]
CHAT_SEND: Final = MESSAGES["chatInputToKernel"]["SEND"]
CHAT_STOP: Final = MESSAGES["chatInputToKernel"]["STOP"]
CHAT_REGENERATE: Final = MESSAGES["chatInputToKernel"]["REGENERATE"]
CHAT_CLEAR: Final = MESSAGES["chatInputToKernel"]["CLEAR"]


def delta(
    seq: int, text: str, metrics: dict[str, Any] | None = None, part: Part = TEXT
) -> dict[str, Any]:
    """The next piece of one part of the answer; live metrics ride along a few times a second.

    A text delta names no part, so the text path costs what it did before parts existed.
    """
    message: dict[str, Any] = {"type": DELTA, "seq": seq, "text": text}
    if part != TEXT:
        message["part"] = part
    if metrics is not None:
        message["metrics"] = metrics
    return message


def snapshot(seq: int, text: str, thinking: str = "") -> dict[str, Any]:
    """The whole answer as of delta `seq`, for a view that said hello: the text, and the
    thinking when there is any."""
    message: dict[str, Any] = {"type": SNAPSHOT, "seq": seq, "text": text}
    if thinking:
        message[THINKING] = thinking
    return message


def reset() -> dict[str, Any]:
    """A new answer starts in this widget: views clear the old one and expect seq 1."""
    return {"type": RESET}


def message_type(content: Any) -> str | None:
    """The `type` of a message from a view, or None for anything that is not one of ours."""
    if not isinstance(content, dict):
        return None
    kind = content.get("type")
    return kind if isinstance(kind, str) else None
