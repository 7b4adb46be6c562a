"""Chat Completions chunks as `StreamChunk`s: one mapper for every provider that speaks the format.

The OpenAI SDK hands over pydantic objects, the embedded llama.cpp engine plain dicts; the fields
are the same, so one mapper reads both (`_field`) and the format is parsed in one place only.
Each stream gets its own mapper: it holds the tool-call accumulator and, when asked to, the finish
reason and usage until the engine is done (`hold_end`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from llmwidgets._chunks import StreamChunk, ToolCall, Usage
from llmwidgets._providers._assemble import (
    ToolCallAccumulator,
    ToolCallDelta,
    normalize_finish_reason,
)


def _field(obj: Any, name: str) -> Any:
    """`obj[name]` for a dict, `obj.name` for an SDK object; None when absent."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def snapshot(acc: ToolCallAccumulator) -> tuple[ToolCall, ...]:
    """Copies, so a chunk already handed out does not change as later fragments arrive."""
    return tuple(dataclasses.replace(c) for c in acc.calls)


def usage_of(raw: Any) -> Usage | None:
    if raw is None or (isinstance(raw, dict) and not raw):
        return None
    details = _field(raw, "completion_tokens_details")
    return Usage(
        input_tokens=int(_field(raw, "prompt_tokens") or 0),
        output_tokens=int(_field(raw, "completion_tokens") or 0),
        reasoning_tokens=int((_field(details, "reasoning_tokens") if details else 0) or 0),
    )


def reasoning_of(delta: Any) -> str:
    """Reasoning text some compatible servers send (`reasoning_content`, or `reasoning`)."""
    extra: dict[str, Any] = {}
    if isinstance(delta, dict):
        fields = delta
    else:
        # Undeclared fields live in pydantic's extras; a plain getattr on a missing field takes
        # pydantic's slow path (~10 us each, on every chunk), so look in the dicts directly.
        fields = delta.__dict__
        extra = getattr(delta, "__pydantic_extra__", None) or {}
    for attr in ("reasoning_content", "reasoning"):
        value = fields.get(attr) or extra.get(attr)
        if isinstance(value, str) and value:
            return value
    return ""


class ChatCompletionsMapper:
    """Turns one stream's Chat Completions chunks into `StreamChunk`s, at most one per chunk.

    `server_model`: chunks carry the model the server names (else always `model`).
    `hold_end`: keep the finish reason and usage for `end()` instead of passing them on as they
    come; the embedded engine sends usage after the finish reason, and its answer is finished only
    once the engine call returns.
    """

    def __init__(self, model: str, *, server_model: bool = True, hold_end: bool = False) -> None:
        self.model = model
        self.server_model = server_model
        self.hold_end = hold_end
        self.acc = ToolCallAccumulator()
        self.raw_finish: str | None = None
        self.usage: Usage | None = None

    def _add_fragments(self, fragments: Any) -> None:
        for pos, tc in enumerate(fragments):
            fn = _field(tc, "function")
            index = _field(tc, "index")
            self.acc.add(
                ToolCallDelta(
                    index=int(index) if index is not None else pos,
                    id=_field(tc, "id"),
                    name=_field(fn, "name") if fn is not None else None,
                    arguments=(_field(fn, "arguments") or "") if fn is not None else "",
                )
            )

    def feed(self, chunk: Any) -> StreamChunk | None:
        """The `StreamChunk` for one Chat Completions chunk, or None when it says nothing new."""
        usage = usage_of(_field(chunk, "usage"))
        model = (self.server_model and _field(chunk, "model")) or self.model
        if self.hold_end and usage is not None:
            self.usage, usage = usage, None
        choices = _field(chunk, "choices")
        if not choices:
            return StreamChunk(model=model, usage=usage) if usage is not None else None
        choice = choices[0]
        delta = _field(choice, "delta")
        text = (_field(delta, "content") or "") if delta is not None else ""
        thinking = reasoning_of(delta) if delta is not None else ""
        calls: tuple[ToolCall, ...] = ()
        fragments = _field(delta, "tool_calls") if delta is not None else None
        if fragments:
            self._add_fragments(fragments)
            calls = snapshot(self.acc)
        raw = _field(choice, "finish_reason")
        if self.hold_end:
            self.raw_finish = raw or self.raw_finish
            raw = None
        elif raw and self.acc and not calls:
            calls = snapshot(self.acc)
        if not (text or thinking or calls or raw or usage is not None):
            return None
        return StreamChunk(
            delta=text,
            model=model,
            finish_reason=normalize_finish_reason(raw),
            raw_finish_reason=raw,
            usage=usage,
            tool_calls=calls,
            thinking=thinking,
        )

    def end(self) -> StreamChunk | None:
        """With `hold_end`: the final chunk (finish reason, usage, tool calls), or None when the
        stream never said it had finished."""
        if self.raw_finish is None:
            return None
        return StreamChunk(
            model=self.model,
            finish_reason=normalize_finish_reason(self.raw_finish),
            raw_finish_reason=self.raw_finish,
            usage=self.usage,
            tool_calls=snapshot(self.acc),
        )
