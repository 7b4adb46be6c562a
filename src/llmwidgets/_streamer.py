"""Runs one stream as an asyncio task on the kernel's loop and batches it for a view.

Why a task: ipykernel processes no widget messages while a cell runs, so a Stop click can only
reach a stream that runs after its cell has returned. Why batching: the front end tops out near
1,000 messages/s and each message carries ~700 bytes of envelope, so deltas are gathered on a
short clock (`flush_interval`) and sent as one append-only piece with a sequence number.

Thinking (reasoning) text is batched the same way but kept apart: each piece sent is one part,
`text` or `thinking`, numbered in the same `seq` sequence, and a batch that holds both sends the
thinking first.

Tool calls become cards (`ToolCard`): one is created, with the place in the text where the model
made the call, as soon as the call's first fragment arrives (the text before it is flushed first);
its arguments then grow as `tool_call` deltas on the same clock, and each step of the tool loop
(asking, running, the result) updates it at once.

Nothing here grows with the answer's length per chunk: appending a delta is a list append and a
counter update; the full text is joined only for snapshots and at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from llmwidgets._chunks import Response, ToolCall, ToolEvent
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._interrupt import InterruptStops, interrupt_stops
from llmwidgets._metrics import Metrics, measure
from llmwidgets._stream import ChunkStream
from llmwidgets._widgets.protocol import TEXT, THINKING, TOOL_CALL, Part

Status = Literal["idle", "waiting", "queued", "streaming", "done", "stopped", "error"]
ENDED: frozenset[str] = frozenset({"done", "stopped", "error"})
DEFAULT_FLUSH_INTERVAL = 0.05


@dataclass(frozen=True)
class ErrorInfo:
    title: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "message": self.message}


#: Card statuses after which nothing changes.
CARD_ENDED: frozenset[str] = frozenset({"done", "error", "denied", "cancelled"})


@dataclass
class ToolCard:
    """What a view shows of one tool call: `arguments` as far as they have been sent."""

    id: str
    name: str
    #: The answer text's length when the model made the call: where the card sits.
    at: int
    status: str = "streaming"
    arguments: str = ""
    result: str | None = None
    is_error: bool = False
    duration: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class StreamSink(Protocol):
    """What a view-holder (a widget) is told. Called on the kernel loop, never concurrently."""

    def on_stream_start(self, run: StreamRun) -> None: ...
    def on_stream_delta(
        self, run: StreamRun, seq: int, text: str, part: Part = TEXT, call_id: str | None = None
    ) -> None: ...
    # A tool card was created or changed: `fields` holds its id and what is new.
    def on_stream_tool(self, run: StreamRun, seq: int, fields: dict[str, object]) -> None: ...
    # Before the first token: the request was queued behind another one, or left the queue.
    def on_stream_status(self, run: StreamRun) -> None: ...
    def on_stream_end(self, run: StreamRun) -> None: ...


def running_loop() -> asyncio.AbstractEventLoop:
    """The kernel's loop. ipykernel runs cells inside it, so it is running even in sync code.

    Terminal IPython runs its loop only while a cell awaits: a stream started in one cell is
    scheduled on that loop and runs when a later cell awaits it (`await w`).
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    loop = _terminal_ipython_loop()
    if loop is not None:
        return loop
    raise RuntimeError(
        "Live streaming needs a running event loop, as in a Jupyter kernel. Outside a "
        "notebook use `await llmwidgets.complete(...)` or `async for chunk in "
        "llmwidgets.stream(...)`."
    )


def _terminal_ipython_loop() -> asyncio.AbstractEventLoop | None:
    try:
        from IPython import get_ipython
        from IPython.core.async_helpers import get_asyncio_loop
    except ImportError:
        return None
    if get_ipython() is None:
        return None
    loop: asyncio.AbstractEventLoop = get_asyncio_loop()
    return loop


class StreamRun:
    """One answer streaming into a sink: owns the task, the text, the status and the metrics."""

    def __init__(
        self,
        answer: ChunkStream,
        sink: StreamSink,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.answer = answer
        self.sink = sink
        self.flush_interval = flush_interval
        self._clock = clock
        self.status: Status = "waiting"
        self.error: LLMWidgetsError | None = None
        self.error_info: ErrorInfo | None = None
        self.seq = 0
        self._sent_chars = 0  # how much of `answer.text` views have been sent
        self._pending: list[str] = []
        self._chars = 0
        self._sent_thinking = 0  # the same for `answer.thinking`
        self._pending_thinking: list[str] = []
        self._thinking_chars = 0
        #: Tool cards by id ("step.index"), in the order the model made the calls.
        self.cards: dict[str, ToolCard] = {}
        self._pending_arguments: dict[str, list[str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self._done: asyncio.Future[Response] | None = None
        #: The kernel's Interrupt stops this run while no cell runs (`_interrupt.py`).
        self._interrupts: InterruptStops | None = None
        self.started_at = clock()
        self.ended_at: float | None = None

    # -- control ---------------------------------------------------------------------------
    def start(self) -> StreamRun:
        self._loop = running_loop()
        self._done = self._loop.create_future()
        self.sink.on_stream_start(self)
        self.task = self._loop.create_task(self._run(), name=f"llmwidgets:{self.answer.alias}")
        self.task.add_done_callback(self._task_done)
        self._interrupts = interrupt_stops(self._loop)
        if self._interrupts is not None:
            self._interrupts.watch(self)
        return self

    def _task_done(self, task: asyncio.Task[None]) -> None:
        # A task cancelled before its first step never runs `_run`, so nothing else ends it.
        if not self.done:
            self._conclude("stopped")

    def stop(self) -> None:
        """Cancel the stream; the partial answer stays and the status becomes `stopped`."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    @property
    def done(self) -> bool:
        return self.status in ENDED

    async def wait(self) -> Response:
        """The final Response; raises the stream's error if it failed."""
        assert self._done is not None, "start() first"
        return await asyncio.shield(self._done)

    # -- text ------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """Everything received so far, sent or still pending (kept once, by the ChunkStream)."""
        return self.answer.text

    @property
    def thinking(self) -> str:
        """The model's thinking received so far."""
        return self.answer.thinking

    def snapshot(self) -> tuple[int, str]:
        """(seq, text) for a view that (re)attaches: the text as of delta `seq`."""
        return self.seq, self.answer.text[: self._sent_chars]

    def tools_snapshot(self) -> list[dict[str, object]]:
        """Every card as of delta `seq`, to go with `snapshot()`."""
        return [card.to_dict() for card in self.cards.values()]

    def thinking_snapshot(self) -> str:
        """The thinking as of delta `seq`, to go with `snapshot()`."""
        return self.answer.thinking[: self._sent_thinking] if self._sent_thinking else ""

    # -- metrics ---------------------------------------------------------------------------
    def metrics(self) -> Metrics:
        done = self.done
        return measure(
            self.answer,
            text_chars=self._chars,
            thinking_chars=self._thinking_chars,
            started_at=self.started_at,
            now=self.ended_at or self._clock(),
            ended=done,
            finish_reason=self.response.finish_reason if done else None,
        )

    # -- the task --------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self._done is not None
        try:
            async for chunk in self.answer:
                if chunk.thinking:
                    self._add_thinking(chunk.thinking)
                if chunk.delta:
                    self._add(chunk.delta)
                if chunk.tool_calls:
                    self._add_calls(chunk.tool_calls)
                if chunk.tool_event is not None:
                    self._tool_event(chunk.tool_event)
                elif chunk.queued is not None and self.status in ("waiting", "queued"):
                    self.status = "queued" if chunk.queued else "waiting"
                    self.sink.on_stream_status(self)
        except asyncio.CancelledError:
            await self._finish("stopped")
            return
        except LLMWidgetsError as exc:
            self.error = exc
            self.error_info = ErrorInfo(exc.title, exc.message)
            await self._finish("error")
            return
        except Exception as exc:  # a bug or an untranslated failure: show it, keep the text
            self.error = LLMWidgetsError(f"{type(exc).__name__}: {exc}")
            self.error_info = ErrorInfo("Unexpected error", self.error.message)
            self.error.__cause__ = exc
            await self._finish("error")
            return
        await self._finish("done")

    def _add(self, delta: str) -> None:
        first = not self._chars
        self._pending.append(delta)
        self._chars += len(delta)
        # The first answer token goes out at once, after thinking too: it is what people wait for.
        self._schedule(first)

    def _add_thinking(self, delta: str) -> None:
        first = not self._thinking_chars
        self._pending_thinking.append(delta)
        self._thinking_chars += len(delta)
        self._schedule(first)

    # -- tool cards ------------------------------------------------------------------------
    def card_id(self, call: ToolCall) -> str:
        """Calls are numbered from 0 in each step of the tool loop, so the step is in the id."""
        return f"{self.answer.step}.{call.index}"

    def _add_calls(self, calls: tuple[ToolCall, ...]) -> None:
        if self.status in ("waiting", "queued"):
            self.status = "streaming"
        for call in calls:
            key = self.card_id(call)
            card = self.cards.get(key)
            if card is None:
                self._flush_now()  # the text before the call goes out first: the card sits after it
                card = self.cards[key] = ToolCard(key, call.name, self._sent_chars)
                self._send_card(card.to_dict())
            elif call.name and call.name != card.name:
                card.name = call.name
                self._send_card({"id": key, "name": call.name})
            queued = self._pending_arguments.get(key, [])
            seen = len(card.arguments) + sum(map(len, queued))  # sent, then waiting for the clock
            if len(call.arguments) > seen:
                self._pending_arguments.setdefault(key, []).append(call.arguments[seen:])
                self._schedule(False)

    def _tool_event(self, event: ToolEvent) -> None:
        key = self.card_id(event.call)
        card = self.cards.get(key)
        if card is None:  # a call with no fragment seen (cannot happen with our providers)
            self._add_calls((event.call,))
            card = self.cards[key]
        self._flush_now()
        update: dict[str, object] = {"id": key, "status": event.status}
        if card.arguments != event.call.arguments:  # the whole JSON, once it is final
            card.arguments = update["arguments"] = event.call.arguments
        card.status = event.status
        if event.result is not None:
            card.result = update["result"] = event.result.content
            card.is_error = update["is_error"] = event.result.is_error
            if event.result.duration is not None:
                card.duration = update["duration"] = round(event.result.duration, 3)
        self._send_card(update)

    def _send_card(self, fields: dict[str, object]) -> None:
        self.seq += 1
        self.sink.on_stream_tool(self, self.seq, fields)

    def _close_cards(self, status: Status) -> None:
        """At the end no card is left spinning: calls cut off by Stop or an error are
        cancelled; calls handed back to the caller unrun (raw tool definitions) are done."""
        for card in self.cards.values():
            if card.status in CARD_ENDED:
                continue
            card.status = "done" if status == "done" else "cancelled"
            self._send_card({"id": card.id, "status": card.status})

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._flush()

    def _schedule(self, now: bool) -> None:
        if self.status in ("waiting", "queued"):
            self.status = "streaming"
            now = True
        if now:
            self._flush_now()
        elif self._timer is None and self._loop is not None:
            self._timer = self._loop.call_later(self.flush_interval, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if self._pending_thinking:
            piece = "".join(self._pending_thinking)
            self._pending_thinking.clear()
            self._sent_thinking += len(piece)
            self.seq += 1
            self.sink.on_stream_delta(self, self.seq, piece, THINKING)
        if self._pending:
            piece = "".join(self._pending)
            self._pending.clear()
            self._sent_chars += len(piece)
            self.seq += 1
            self.sink.on_stream_delta(self, self.seq, piece)
        if self._pending_arguments:
            for key, pieces in self._pending_arguments.items():
                piece = "".join(pieces)
                self.cards[key].arguments += piece
                self.seq += 1
                self.sink.on_stream_delta(self, self.seq, piece, TOOL_CALL, key)
            self._pending_arguments.clear()

    async def _finish(self, status: Status) -> None:
        await self.answer.aclose()  # idempotent; makes sure the HTTP response is closed
        self._conclude(status)

    def _conclude(self, status: Status) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._flush()
        self._close_cards(status)
        self.ended_at = self._clock()
        self.status = status
        if self._interrupts is not None:
            self._interrupts.forget(self)
        assert self._done is not None
        response = self.response
        if status == "error" and self.error is not None:
            self._done.set_exception(self.error)
            self._done.exception()  # mark retrieved: a failed stream is shown, not logged
        else:
            self._done.set_result(response)
        self.sink.on_stream_end(self)

    @property
    def response(self) -> Response:
        r = self.answer.response
        if self.status == "stopped":
            r.finish_reason = "cancelled"
        elif self.status == "error" and r.finish_reason is None:
            r.finish_reason = "error"
        return r
