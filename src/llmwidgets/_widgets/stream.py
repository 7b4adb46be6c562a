"""`StreamWidget`: one streamed answer in a cell, the view every other widget reuses.

The kernel owns the text and the status; views only render. While streaming, text travels as
append-only `delta` messages (see `_streamer.py`); small state (status, metrics, error) is synced
as traits. The answer is never sent twice: a view that renders late asks for a snapshot, and at
the end each view keeps the text it assembled in its own model state, so saved widget state
holds it.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable, Generator
from contextlib import nullcontext
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from llmwidgets._chunks import Prompt, Response, ToolCall, Usage, to_messages
from llmwidgets._config import Config
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._interrupt import STOPPED, ctrl_c_calls, in_terminal_ipython
from llmwidgets._prompt_objects import sent_preview
from llmwidgets._stream import stream
from llmwidgets._streamer import DEFAULT_FLUSH_INTERVAL, ENDED, ErrorInfo, StreamRun
from llmwidgets._widgets import protocol
from llmwidgets._widgets.assets import FrontendAssets, esm_here, shared_assets, static_file
from llmwidgets._widgets.comm import send_custom
from llmwidgets._widgets.saved_copy import SavedCopy, excerpt, json_block, with_tool_cards

#: Seconds between live metrics updates carried in deltas.
METRICS_INTERVAL = 0.25


class StreamWidget(SavedCopy, anywidget.AnyWidget):
    """Streams one answer into a cell with live markdown, a token counter and Stop.

        w = StreamWidget("chatbot", "Explain monads in one paragraph")
        w                      # shows it; the answer streams after the cell returns
        response = await w     # in a later cell (or the same one) once it ends

    Stop (the button, or `w.stop()`) cancels the kernel task and closes the HTTP response;
    the partial answer stays. Errors are shown in plain words, also with the partial answer.
    """

    #: Class defaults, so that `close()` (also run by `Widget.__del__`) works on a widget
    #: whose `__init__` failed before setting them.
    run: StreamRun | None = None
    _startup_error: LLMWidgetsError | None = None

    _esm = static_file("loader.js")
    _assets = traitlets.Instance(FrontendAssets).tag(sync=True, **widgets.widget_serialization)

    status = traitlets.Unicode("idle").tag(sync=True)
    metrics = traitlets.Dict().tag(sync=True)
    error: traitlets.Dict[str, Any] | Any = traitlets.Dict(allow_none=True, default_value=None).tag(
        sync=True
    )
    #: The whole answer once the stream has ended. Not synced: the text already reached the
    #: view as deltas, so resending it would double the bytes; the view stores what it
    #: assembled in its own model state, which is what saved widget state holds.
    final_text = traitlets.Unicode("")
    #: The model's thinking once the stream has ended; kept by views like `final_text`.
    final_thinking = traitlets.Unicode("")
    #: The tool cards once the stream has ended; kept by views like `final_text`.
    final_tools: traitlets.List[dict[str, Any]] = traitlets.List()
    model_label = traitlets.Unicode("").tag(sync=True)
    #: The answer is JSON asked for with `schema=`: views draw it as an object filling in.
    structured = traitlets.Bool(False).tag(sync=True)
    label_note = traitlets.Unicode("").tag(sync=True)
    #: What the question sent besides its words, drawn above the answer: image thumbnails and
    #: table previews (`prompt_objects.sent_preview`). Synced, so saved widget state keeps them.
    sent: traitlets.List[dict[str, str]] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        model: str = "chatbot",
        prompt: Prompt | None = None,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        config: str | os.PathLike[str] | Config | None = None,
        **options: Any,
    ) -> None:
        # A chat's answer is made when the person presses Enter, while no marimo cell runs:
        # esm_here() gives marimo a loader it can open then.
        self._esm = esm_here(type(self)._esm)
        super().__init__(_assets=shared_assets())
        self.flush_interval = flush_interval
        self._end_callbacks: list[Callable[[StreamWidget], None]] = []
        #: Tool calls waiting for Allow/Deny, by card id.
        self._approvals: dict[str, asyncio.Future[bool]] = {}
        self.on_msg(self._on_view_message)
        if prompt is not None:
            self.start(model, prompt, config=config, **options)

    # -- Python API ------------------------------------------------------------------------
    def start(
        self,
        model: str = "chatbot",
        prompt: Prompt = "",
        *,
        config: str | os.PathLike[str] | Config | None = None,
        **options: Any,
    ) -> StreamWidget:
        """Start streaming an answer into this widget (stops any stream already running)."""
        self.stop()
        self.structured = options.get("schema") is not None
        if self.run is not None or self._startup_error is not None:
            self.send(protocol.reset())
        self._startup_error = None
        if not isinstance(prompt, str):
            prompt = to_messages(prompt)  # once: figures are drawn here, not again by stream()
        self.sent = [] if isinstance(prompt, str) else sent_preview(prompt)
        try:
            answer = stream(model, prompt, config=config, **options)
        except LLMWidgetsError as exc:  # bad alias or config: nothing was sent
            self._startup_error = exc
            self.run = None
            with self.hold_sync():
                self.model_label = model
                self.final_text = ""
                self.final_thinking = ""
                self.final_tools = []
                self.error = ErrorInfo(exc.title, exc.message).to_dict()
                self.status = "error"
            return self
        answer.ask = self._ask
        self.run = StreamRun(answer, self, flush_interval=self.flush_interval)
        with self.hold_sync():  # the starting state in one message
            self.run.start()
        return self

    def show(
        self, text: str, model_label: str = "", tools: list[dict[str, Any]] | None = None
    ) -> StreamWidget:
        """Show a given answer as ended, with no stream behind it (and its tool cards, if any).

        For answers that come from elsewhere, such as an assistant turn in a chat's
        `messages=[...]`: views draw it like any ended answer, and a reloaded page gets it back.
        """
        self.stop()
        if self.run is not None or self._startup_error is not None:
            self.send(protocol.reset())
        self.run = None
        self._startup_error = None
        with self.hold_sync():
            self.model_label = model_label
            self.sent = []
            self.final_text = text
            self.final_thinking = ""
            self.final_tools = list(tools or [])
            self.metrics = {}
            self.error = None
            self.status = "done"
        return self

    def close(self) -> None:
        """Stop any stream and close the widget and its layout (each has a comm)."""
        self.stop()
        self.layout.close()
        super().close()

    def stop(self) -> None:
        """Stop the running stream, keeping what has arrived."""
        if self.run is not None:
            self.run.stop()

    async def wait(self) -> Response:
        """Wait for the answer to end; returns the Response, raises the error if it failed."""
        if self._startup_error is not None:
            raise self._startup_error
        if self.run is None:
            raise RuntimeError("Nothing is streaming: call start(model, prompt) first.")
        run = self.run
        stopped_here = False

        def stop_on_ctrl_c() -> None:
            nonlocal stopped_here
            stopped_here = True
            run.stop()

        # In terminal IPython Ctrl-C would otherwise end only the wait: the loop halts with the
        # answer's task pending, still "streaming", to go on at the next await.
        in_terminal = in_terminal_ipython()
        guard = (
            ctrl_c_calls(asyncio.get_running_loop(), stop_on_ctrl_c)
            if in_terminal
            else nullcontext()
        )
        try:
            with guard:
                response = await run.wait()
        finally:
            if run.done:
                self.refresh_displays_from_here()
        if stopped_here:
            raise KeyboardInterrupt(STOPPED)
        return response

    @property
    def startup_error(self) -> LLMWidgetsError | None:
        """The error that kept the last start() from sending anything (bad alias or config)."""
        return self._startup_error

    def __await__(self) -> Generator[Any, None, Response]:
        return self.wait().__await__()

    @property
    def text(self) -> str:
        """The answer so far (all of it once the stream has ended)."""
        return self.run.text if self.run is not None else ""

    @property
    def response(self) -> Response | None:
        """The final Response once the stream has ended, else None."""
        return self.run.response if self.run is not None and self.run.done else None

    @property
    def usage(self) -> Usage | None:
        r = self.response
        return r.usage if r is not None else None

    def on_end(self, callback: Callable[[StreamWidget], None]) -> None:
        """Call `callback(widget)` each time a stream in this widget ends (done, stopped, error)."""
        self._end_callbacks.append(callback)

    # -- display ---------------------------------------------------------------------------
    def saved_ready(self) -> bool:
        return self.status in ENDED

    def markdown(self) -> str:
        """The answer as markdown, with a line saying which model wrote it and how it ended,
        and one above it summing up the thinking, if the model thought."""
        body = with_tool_cards(self.final_text or self.text, self.final_tools)
        if self.structured:
            body = json_block(self.final_text or self.text)
        thought = thinking_summary(self.metrics or {})
        if thought:
            body = f"*{thought}*\n\n{body}"
        foot = [f"*{self.model_label}*"] if self.model_label else []
        if self.status == "stopped":
            foot.append("*stopped*")
        elif self.status == "done" and (self.metrics or {}).get("finish_reason") == "length":
            foot.append("*stopped: token limit*")
        if self.status == "error" and self.error:
            foot.append(f"**{self.error['title']}:** {self.error['message']}")
        return body + ("\n\n" + " · ".join(foot) if foot else "")

    def plain_text(self) -> str:
        if self.status not in ENDED:
            return f"<{self.model_label or 'llmwidgets'}: {self.status}>"
        err = f"\n[{self.error['title']}: {self.error['message']}]" if self.error else ""
        # The HTML copy carries the whole answer; a second full copy would double the bytes
        # every front end receives at the end, for the rare one that shows plain text.
        return excerpt(self.final_text or self.text) + err

    # -- StreamSink ------------------------------------------------------------------------
    def on_stream_start(self, run: StreamRun) -> None:
        self._metrics_sent_at = -math.inf
        self.final_text = ""
        self.final_thinking = ""
        self.final_tools = []
        self.error = None
        self.model_label = run.answer.target.spec
        self.label_note = ""
        self.metrics = run.metrics().to_dict()
        self.status = "waiting"

    def _streaming(self, run: StreamRun) -> None:
        if self.status != "streaming":
            # The first delta also fixes which model answered (fallbacks happen before it).
            with self.hold_sync():
                self.model_label = run.answer.target.spec
                self.label_note = run.answer.note
                self.status = "streaming"

    def on_stream_delta(
        self,
        run: StreamRun,
        seq: int,
        text: str,
        part: protocol.Part = protocol.TEXT,
        call_id: str | None = None,
    ) -> None:
        self._streaming(run)
        metrics = None
        now = time.monotonic()
        if now - self._metrics_sent_at >= METRICS_INTERVAL:
            # The counter needs a few updates a second, not one per batch.
            self._metrics_sent_at = now
            metrics = run.metrics().compact()
        send_custom(self, protocol.delta(seq, text, metrics, part, call_id))

    def on_stream_tool(self, run: StreamRun, seq: int, fields: dict[str, object]) -> None:
        self._streaming(run)
        send_custom(self, protocol.tool(seq, fields))

    def on_stream_status(self, run: StreamRun) -> None:
        self.status = run.status  # "queued" while the model answers another request

    def on_stream_end(self, run: StreamRun) -> None:
        with self.hold_sync():
            self.label_note = run.answer.note
            self.model_label = run.answer.target.spec
            self.final_text = run.text
            self.final_thinking = run.thinking
            self.final_tools = run.tools_snapshot()
            self.metrics = run.metrics().to_dict()
            self.error = run.error_info.to_dict() if run.error_info else None
            self.status = run.status
        self.refresh_displays()
        for callback in self._end_callbacks:
            callback(self)

    # -- view messages ---------------------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: Any, _buffers: list[bytes]) -> None:
        kind = protocol.message_type(content)
        if kind == protocol.STOP:
            self.stop()
        elif kind == protocol.APPROVE:
            waiting = self._approvals.pop(str(content.get("id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(content.get("allow") is True)
        elif kind == protocol.HELLO:
            # A shown answer (no run) is its final text; a stream, its text as of the last delta.
            if self.run is not None:
                seq, text = self.run.snapshot()
                thinking = self.run.thinking_snapshot()
                tools = self.run.tools_snapshot()
            else:
                seq, text, thinking = 0, self.final_text, self.final_thinking
                tools = list(self.final_tools)
            send_custom(self, protocol.snapshot(seq, text, thinking, tools))

    async def _ask(self, call: ToolCall) -> bool:
        """`approve=True`: the card shows Allow and Deny, and the call waits for a click (or for
        `approve_call()`). Stop while waiting cancels the wait with the stream."""
        assert self.run is not None
        waiting: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._approvals[self.run.card_id(call)] = waiting
        return await waiting

    @property
    def pending_approvals(self) -> list[str]:
        """Card ids of the tool calls waiting for Allow or Deny."""
        return [key for key, fut in self._approvals.items() if not fut.done()]

    def approve_call(self, card_id: str, allow: bool = True) -> None:
        """Answer a waiting call from code, as the Allow / Deny buttons do."""
        waiting = self._approvals.pop(card_id, None)
        if waiting is None or waiting.done():
            raise KeyError(
                f"No tool call {card_id!r} is waiting (waiting: {self.pending_approvals})"
            )
        waiting.set_result(allow)


def thinking_summary(metrics: dict[str, Any]) -> str:
    """'Thought for 12 s · 840 tokens' from an ended answer's metrics, or '' if it did not think."""
    tokens = metrics.get("thinking_tokens")
    if tokens is None:
        return ""
    seconds = metrics.get("thinking_time")
    parts = ["Thought"]
    if isinstance(seconds, int | float):
        parts[0] += f" for {seconds:.1f} s" if seconds < 10 else f" for {seconds:.0f} s"
    approx = "~" if metrics.get("thinking_estimated") else ""
    parts.append(f"{approx}{tokens} {'token' if tokens == 1 else 'tokens'}")
    return " · ".join(parts)
