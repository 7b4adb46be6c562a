"""The messages between a widget in the kernel and its views, defined once per side.

`js/src/protocol.js` is the view's half, and `tests/test_protocol.py` keeps the two equal. Text
travels as append-only deltas numbered by `seq`; a view that lost its place says `hello` and gets
a snapshot (the text as of delta `seq`); `reset` starts a new answer. Small state (status,
metrics, error) is synced as traits, not as messages.
"""

from __future__ import annotations

from typing import Any, Final

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
}

DELTA: Final = MESSAGES["kernelToView"]["DELTA"]
SNAPSHOT: Final = MESSAGES["kernelToView"]["SNAPSHOT"]
RESET: Final = MESSAGES["kernelToView"]["RESET"]
HELLO: Final = MESSAGES["viewToKernel"]["HELLO"]
STOP: Final = MESSAGES["viewToKernel"]["STOP"]
CHAT_SEND: Final = MESSAGES["chatInputToKernel"]["SEND"]
CHAT_STOP: Final = MESSAGES["chatInputToKernel"]["STOP"]
CHAT_REGENERATE: Final = MESSAGES["chatInputToKernel"]["REGENERATE"]
CHAT_CLEAR: Final = MESSAGES["chatInputToKernel"]["CLEAR"]


def delta(seq: int, text: str, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """The next piece of the answer; live metrics ride along a few times a second."""
    message: dict[str, Any] = {"type": DELTA, "seq": seq, "text": text}
    if metrics is not None:
        message["metrics"] = metrics
    return message


def snapshot(seq: int, text: str) -> dict[str, Any]:
    """The whole answer as of delta `seq`, for a view that said hello."""
    return {"type": SNAPSHOT, "seq": seq, "text": text}


def reset() -> dict[str, Any]:
    """A new answer starts in this widget: views clear the old one and expect seq 1."""
    return {"type": RESET}


def message_type(content: Any) -> str | None:
    """The `type` of a message from a view, or None for anything that is not one of ours."""
    if not isinstance(content, dict):
        return None
    kind = content.get("type")
    return kind if isinstance(kind, str) else None
