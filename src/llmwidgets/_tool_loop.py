"""The tool loop's side of one answer: each round of calls asked about, run and answered, and the
turns the rounds add to the conversation.

`ChunkStream` (_stream.py) streams each step's request and decides whether the answer goes on;
`ToolLoop` keeps what the steps leave behind (the assistant turns that made calls, each call's
result, the calls of earlier steps) and runs a round of calls as `tool_event` chunks.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from llmwidgets._chunks import Message, StreamChunk, ThinkingBlock, ToolCall, ToolEvent, ToolResult
from llmwidgets._tools import CANCELLED, DECLINED, Approval, Tool, Toolbox


class ToolLoop:
    """The calls and turns of one answer, step by step (a step is one provider request)."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any] | Mapping[str, Any]]) -> None:
        self.toolbox = Toolbox(tools)
        #: The request being streamed: 0, then one more after each round of tool calls.
        self.step = 0
        #: This step's calls as streamed so far, and its signed thinking (set by ChunkStream).
        self.calls: tuple[ToolCall, ...] = ()
        self.thinking_blocks: tuple[ThinkingBlock, ...] = ()
        self._past_calls: list[ToolCall] = []  # earlier steps'
        #: The assistant turns that made calls and the calls' results, so far.
        self.turns: list[Message] = []
        self.results: dict[str, ToolResult] = {}
        self._recorded = False  # this step's assistant turn is in `turns`

    @property
    def all_calls(self) -> list[ToolCall]:
        """Every call the model made in this answer, earlier steps first."""
        return self._past_calls + list(self.calls)

    def end_step(self, step_text: Callable[[], str]) -> list[ToolCall]:
        """Give this step's calls ids where the server sent none, and record the turn that made
        them (`step_text` is asked for only then)."""
        calls = [c if c.id else replace(c, id=f"call_{self.step}_{c.index}") for c in self.calls]
        self.calls = tuple(calls)
        if calls:
            signed = list(self.thinking_blocks)
            self.turns.append(
                Message("assistant", step_text(), tool_calls=list(calls), thinking_blocks=signed)
            )
            self._recorded = True
        return calls

    def next_step(self) -> None:
        self.step += 1
        self._past_calls.extend(self.calls)
        self.calls = ()
        self.thinking_blocks = ()
        self._recorded = False

    async def run(
        self, calls: list[ToolCall], approval: Approval | None
    ) -> AsyncGenerator[StreamChunk, None]:
        """Ask (when asked to), then run the allowed calls at once; results in call order."""
        allowed: list[ToolCall] = []
        for call in calls:
            if approval is not None and approval.needs(call):
                yield StreamChunk(tool_event=ToolEvent(call, "approval"))
                verdict = approval.decide(call)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                if not verdict:
                    denied = ToolResult(call.id, call.name, DECLINED, "denied", 0.0)
                    self.results[call.id] = denied
                    yield StreamChunk(tool_event=ToolEvent(call, "denied", denied))
                    continue
            allowed.append(call)
        for call in allowed:
            yield StreamChunk(tool_event=ToolEvent(call, "running"))
        by_id = {call.id: call for call in allowed}
        pending = [asyncio.ensure_future(self.toolbox.call(call)) for call in allowed]
        try:
            for finished in asyncio.as_completed(pending):
                result = await finished
                self.results[result.call_id] = result
                call = by_id[result.call_id]
                ended = ToolEvent(call, "error" if result.is_error else "done", result)
                yield StreamChunk(tool_event=ended)
        finally:
            for task in pending:
                task.cancel()  # Stop: a thread's late result is dropped
        self.turns.extend(self.results[call.id].to_message() for call in calls)

    def conversation(self, step_text: Callable[[], str]) -> list[Message]:
        """The turns this answer adds (the step under way last, its text from `step_text`).
        Calls left without a result (Stop) get a cancelled one, so the conversation stays valid
        for the next request."""
        turns = list(self.turns)
        if not self._recorded:
            text = step_text()
            if text or self.calls or not turns:
                turns.append(Message("assistant", text, tool_calls=list(self.calls)))
        answered = {t.tool_call_id for t in turns if t.role == "tool"}
        out: list[Message] = []
        for turn in turns:
            out.append(turn)
            if any(c.id in answered for c in turn.tool_calls):
                continue
            for call in turn.tool_calls:
                result = self.results.get(call.id)
                if result is None:
                    result = ToolResult(call.id, call.name, CANCELLED, "cancelled")
                out.append(result.to_message())
        return out
