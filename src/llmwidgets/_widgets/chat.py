"""`ChatWidget`: a multi-turn chat in one cell, built from `StreamWidget`s.

Composition, not a new front end: each assistant turn is a `StreamWidget` started with the whole
conversation so far, so it gets incremental markdown, its own counter and its own Stop for free.
The chat is one anywidget (no ipywidgets container, which marimo refuses): its `turns` trait lists
user texts and references to the answers' models, and its view (js/src/containers.js, in the
shared bundle) draws user turns as text, never HTML, each answer with the stream's own view, and
the input box from the chat's own traits. It all lives in widget state, so a reloaded page
re-renders it from the kernel.

    chat = ChatWidget("chatbot", system="Answer briefly.")
    chat                                  # shows the transcript and the input box
    answer = chat.send("What is a monad?")  # the same as typing it and pressing Enter
    await answer                          # or `await chat`: the Response of the current answer
    chat.messages                         # the conversation in OpenAI format, ready to reuse

Policies (one place to read them):

* Sending while an answer streams stops that answer first; its partial text stays in the
  transcript and in `messages` (the model sees what the person saw). The input's Send is
  disabled while an answer streams, so only Python can do this.
* `messages` holds every user turn and every assistant turn's text, including stopped partial
  answers and an answer still streaming (its text so far). Errored answers are left out, even
  their partial text: what failed is not something the model said. Their user turn stays.
* `regenerate()` drops the last answer and answers the last user message again; the request
  does not carry the dropped answer. If the conversation ends with a user message (from
  `messages=[...]` or after an error), it answers it.
* `clear()` empties the transcript; the system prompt stays.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ipywidgets
import traitlets

from llmwidgets._chunks import Message, Response, Usage
from llmwidgets._config import Config
from llmwidgets._streamer import DEFAULT_FLUSH_INTERVAL, ENDED
from llmwidgets._widgets import protocol
from llmwidgets._widgets.assets import BundleView
from llmwidgets._widgets.saved_copy import SavedCopy, close_open_fence, tool_answer
from llmwidgets._widgets.stream import StreamWidget

ChatRole = Literal["user", "assistant"]


@dataclass
class _Turn:
    """One entry of the transcript: a user's text, or an answer and the widget showing it."""

    role: ChatRole
    text: str = ""
    answer: StreamWidget | None = None
    #: For an answer given in `messages=[...]` that called tools: its turns as given.
    given: list[Message] | None = None

    def as_trait(self) -> dict[str, Any]:
        """What the view draws: the text of a user turn, a reference to an answer's model."""
        if self.answer is not None:
            return {"role": self.role, "answer": self.answer}
        return {"role": self.role, "text": self.text}

    @property
    def content(self) -> str:
        w = self.answer
        if w is None:
            return self.text
        return w.final_text if w.status in ENDED else w.text

    @property
    def status(self) -> str:
        w = self.answer
        return w.status if w is not None else "done"

    def as_messages(self) -> list[Message]:
        """The turn as the API reads it: an answer that called tools is each call, each result
        and the final text, so the next request shows the model what its tools returned (with
        what providers want back unchanged: Gemini's call signatures, Anthropic's thinking)."""
        if self.given is not None:
            return list(self.given)
        w = self.answer
        response = w.response if w is not None else None
        if response is not None and any(m.tool_calls for m in response.messages):
            return list(response.messages)
        return [Message(self.role, self.content)]


def _answers_and_questions(messages: list[Message]) -> list[list[Message]]:
    """Given messages grouped into turns: each user message alone, and each answer with the
    tool calls and results it made on the way (assistant and tool messages up to the next
    user message)."""
    groups: list[list[Message]] = []
    for m in messages:
        if m.role == "user":
            groups.append([m])
        elif m.role in ("assistant", "tool"):
            if groups and groups[-1][0].role != "user":
                groups[-1].append(m)
            elif m.role == "assistant":
                groups.append([m])
            else:
                raise ValueError("ChatWidget(messages=...): a tool result must follow the call.")
        else:
            raise ValueError(
                "ChatWidget(messages=...) takes user, assistant and tool messages after an "
                f"optional leading system message, not {m.role!r}."
            )
    return groups


@dataclass(frozen=True)
class ChatTurn:
    """One turn of `ChatWidget.history`: who said what, and for answers how it went.

    `status` is the answer's (waiting, streaming, done, stopped, error); user turns and saved
    answers read "done". `response` is None for user turns, saved answers and failed answers.
    """

    role: ChatRole
    content: str
    status: str = "done"
    response: Response | None = None
    error: dict[str, str] | None = None
    model: str = ""

    @property
    def usage(self) -> Usage | None:
        return self.response.usage if self.response is not None else None

    @property
    def ttft(self) -> float | None:
        """Seconds from sending the request to the first token."""
        return self.response.time_to_first_token if self.response is not None else None

    @property
    def total_time(self) -> float | None:
        return self.response.total_time if self.response is not None else None


class ChatWidget(SavedCopy, BundleView):
    """A multi-turn chat in one cell: a transcript of streamed answers and an input box.

        chat = ChatWidget("chatbot", system="You are terse.", temperature=0)
        chat                             # type below it; Enter sends, Shift+Enter is a newline
        await chat.send("Hi")            # the Python way; returns the answer's Response
        chat.history[-1].usage           # tokens of the last answer

    `messages=[...]` starts from a given conversation (OpenAI-style dicts or `Message`; a leading
    system message becomes the system prompt). Other keyword options (temperature, max_tokens,
    base_url, `tools=[...]`, `approve=True`, ...) go to every answer's `StreamWidget`.

    The input box in the view reports what the person did as custom messages (send with its
    text, stop, regenerate, clear: see `protocol.py`); the chat acts on them.
    """

    _llmw_view = traitlets.Unicode("chat").tag(sync=True)
    #: The transcript as the view draws it: `{"role": "user", "text": ...}` and
    #: `{"role": "assistant", "answer": StreamWidget}` (sent as a reference to its model).
    turns: traitlets.List[dict[str, Any]] = traitlets.List().tag(
        sync=True, **ipywidgets.widget_serialization
    )
    #: Whether an answer is streaming (Send and Regenerate wait, Stop is enabled).
    busy = traitlets.Bool(False).tag(sync=True)
    placeholder = traitlets.Unicode("").tag(sync=True)
    #: The user messages sent so far, oldest first: Up / Down in the box walk through them.
    recall = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: Whether the transcript has turns: something to regenerate (an answer, or a user message
    #: waiting for one) and something to clear.
    has_turns = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        model: str = "chatbot",
        *,
        system: str | None = None,
        messages: Sequence[Message | dict[str, Any]] | None = None,
        placeholder: str | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        config: str | os.PathLike[str] | Config | None = None,
        **options: Any,
    ) -> None:
        self.model = model
        self.options = options
        self.flush_interval = flush_interval
        self.config = config
        self._turns: list[_Turn] = []
        super().__init__(
            placeholder=placeholder
            if placeholder is not None
            else f"Message {model}… (Enter sends, Shift+Enter for a new line)"
        )
        self.on_msg(self._on_input_message)

        given = [Message.coerce(m) for m in messages or ()]
        if given and given[0].role == "system":
            if system is None:
                system = given[0].content
            given = given[1:]
        self.system = system
        for group in _answers_and_questions(given):
            first = group[0]
            if first.role == "user":
                self._turns.append(_Turn("user", first.content))
            elif len(group) == 1 and not first.tool_calls:
                self._turns.append(_Turn("assistant", answer=StreamWidget().show(first.content)))
            else:
                text, cards = tool_answer(group)
                view = StreamWidget().show(text, tools=cards)
                self._turns.append(_Turn("assistant", answer=view, given=group))
        self._sync()

    # -- Python API ------------------------------------------------------------------------
    def send(self, text: str) -> StreamWidget:
        """Add a user message and stream the answer; returns the answer (awaitable).

        An answer still streaming is stopped first and keeps its partial text.
        """
        if not text.strip():
            raise ValueError("Nothing to send: the message is empty.")
        self.stop()
        self._turns.append(_Turn("user", text))
        return self._answer()

    def regenerate(self) -> StreamWidget:
        """Drop the last answer and answer the last user message again."""
        if self._turns and self._turns[-1].role == "assistant":
            self._discard(self._turns.pop())
        if not self._turns:
            self._sync()
            raise RuntimeError("Nothing to regenerate: send a message first.")
        return self._answer()

    def stop(self) -> None:
        """Stop the answer that is streaming, keeping what has arrived."""
        w = self.current
        if w is not None:
            w.stop()

    def clear(self) -> None:
        """Empty the transcript (stopping any answer); the system prompt stays."""
        turns, self._turns = self._turns, []
        for turn in turns:
            self._discard(turn)
        self._sync()
        self.refresh_displays()

    async def wait(self) -> Response:
        """Wait for the current answer; returns its Response, raises its error if it failed."""
        w = self.current
        if w is None or w.run is None:  # nothing sent yet, or an answer given in messages=
            raise RuntimeError("Nothing to wait for: send a message first.")
        try:
            return await w.wait()
        finally:
            if w.status in ENDED and w is self.current:
                self.refresh_displays_from_here()

    def __await__(self) -> Generator[Any, None, Response]:
        return self.wait().__await__()

    @property
    def current(self) -> StreamWidget | None:
        """The widget of the last answer, if the transcript ends with one."""
        return self._turns[-1].answer if self._turns else None

    def _answering(self) -> bool:
        """Whether an answer is streaming now (`busy` is this as of the last sync)."""
        w = self.current
        return w is not None and w.status not in ENDED

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation in OpenAI message format, system message first if there is one.

        Stopped answers count with their partial text; errored answers are left out.
        """
        out = [{"role": "system", "content": self.system}] if self.system else []
        for t in self._turns:
            if t.status != "error":
                out += [m.to_openai() for m in t.as_messages()]
        return out

    @property
    def history(self) -> list[ChatTurn]:
        """Every turn shown, errored ones too, with usage and timings for answers."""
        out = []
        for t in self._turns:
            w = t.answer
            if w is None:
                out.append(ChatTurn(t.role, t.content))
                continue
            failed = w.status == "error"
            out.append(
                ChatTurn(
                    t.role,
                    t.content,
                    status=w.status,
                    response=None if failed else w.response,
                    error=w.error,
                    model=w.model_label,
                )
            )
        return out

    # -- turns -----------------------------------------------------------------------------
    def _answer(self) -> StreamWidget:
        prompt = [m for t in self._turns if t.status != "error" for m in t.as_messages()]
        options = dict(self.options)
        if self.system is not None:
            options["system"] = self.system
        w = StreamWidget(flush_interval=self.flush_interval)
        w.on_end(self._on_answer_end)
        self._turns.append(_Turn("assistant", answer=w))
        w.start(self.model, prompt, config=self.config, **options)
        self._sync()
        if w.status in ENDED:  # failed before sending (bad alias): no end callback comes
            self.refresh_displays()
        return w

    def _discard(self, turn: _Turn) -> None:
        """Close a turn's widget; a running answer is stopped and closed once it has ended."""
        w = turn.answer
        if w is not None and w.status not in ENDED:
            w.on_end(lambda ended: ended.close())
            w.stop()
        elif w is not None:
            w.close()

    def _on_answer_end(self, w: StreamWidget) -> None:
        if w is not self.current:  # a stopped or discarded answer ending late
            self._sync()
            return
        self._sync()
        self.refresh_displays()

    def _sync(self) -> None:
        """Push the transcript and the input's state to the front end, in one message."""
        with self.hold_sync():
            self.busy = self._answering()
            self.recall = [t.text for t in self._turns if t.role == "user"]
            self.has_turns = bool(self._turns)
            self.turns = [t.as_trait() for t in self._turns]

    # -- input messages --------------------------------------------------------------------
    def _on_input_message(self, _widget: Any, content: Any, _buffers: list[bytes]) -> None:
        kind = protocol.message_type(content)
        if kind == protocol.CHAT_SEND:
            text = content.get("text")
            if isinstance(text, str) and text.strip() and not self._answering():
                self.send(text)
        elif kind == protocol.CHAT_STOP:
            self.stop()
        elif kind == protocol.CHAT_REGENERATE:
            if self._turns and not self._answering():
                self.regenerate()
        elif kind == protocol.CHAT_CLEAR:
            self.clear()

    # -- display ---------------------------------------------------------------------------
    def saved_ready(self) -> bool:
        return not self._answering() and bool(self._turns)

    def markdown(self) -> str:
        """The transcript as markdown: `**You:** ...` then each answer with its model line."""
        parts: list[str] = []
        for t in self._turns:
            w = t.answer
            if w is None:
                parts.append(("---\n\n" if parts else "") + f"**You:** {close_open_fence(t.text)}")
            else:
                parts.append(w.markdown())
        return "\n\n".join(parts)

    def plain_text(self) -> str:
        lines = [f"<ChatWidget {self.model}: {len(self._turns)} turns>"]
        for t in self._turns:
            who = "You" if t.role == "user" else "Assistant"
            lines.append(f"{who}: {t.content}")
        return "\n".join(lines)
