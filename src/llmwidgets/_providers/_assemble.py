"""What every chunk mapping shares: a provider's finish reason in our small vocabulary, and tool
calls assembled from the fragments they stream in.

Providers use these to build `StreamChunk`s (_chunks.py holds the types themselves), so nothing
past the providers sees a raw finish reason or a half-assembled fragment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmwidgets._chunks import FinishReason, ToolCall

_FINISH_MAP: dict[str, FinishReason] = {
    # OpenAI and compatible servers
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    # Anthropic
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    # Google Gemini (the provider raises a typed error for the ones that end an answer early)
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "MISSING_THOUGHT_SIGNATURE": "error",
    "MALFORMED_RESPONSE": "error",
    # ours
    "cancelled": "cancelled",
    "error": "error",
}


def normalize_finish_reason(raw: str | None) -> FinishReason | None:
    """Map a provider's stop reason onto the small shared vocabulary (unknown values read as stop)."""
    if raw is None:
        return None
    return _FINISH_MAP.get(raw, "stop")


@dataclass(frozen=True)
class ToolCallDelta:
    """A fragment of a tool call as providers send it: any field may be missing."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


class ToolCallAccumulator:
    """Assembles tool-call fragments by index; fragments of different calls may interleave."""

    def __init__(self) -> None:
        self._calls: dict[int, ToolCall] = {}

    def add(self, delta: ToolCallDelta) -> ToolCall:
        call = self._calls.get(delta.index)
        if call is None:
            call = self._calls[delta.index] = ToolCall(index=delta.index)
        if delta.id:
            call.id = delta.id
        if delta.name:
            call.name = delta.name
        call.arguments += delta.arguments
        return call

    def extend(self, deltas: Iterable[ToolCallDelta]) -> None:
        for d in deltas:
            self.add(d)

    @property
    def calls(self) -> list[ToolCall]:
        return [self._calls[i] for i in sorted(self._calls)]

    def __bool__(self) -> bool:
        return bool(self._calls)
