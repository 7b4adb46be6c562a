"""Plain helpers shared by test modules (fixtures live in `conftest.py`)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmwidgets._chunks import Message, Request, StreamChunk, ToolCall, Usage
from llmwidgets._errors import LLMWidgetsError, ModelNotFoundError, ProviderError
from llmwidgets._widgets.compare import CompareWidget

if TYPE_CHECKING:
    import nbformat
    from wire_server import WireServer

    from llmwidgets._widgets.stream import StreamWidget

#: The repository's root.
ROOT = Path(__file__).resolve().parent.parent

#: A 1×1 red PNG: an image to send without a plotting library.
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def text_model(wire: WireServer, name: str, text: str, chunk: int = 4, delay: float = 0.0) -> str:
    """`openai:` model whose answer is `text`, streamed `chunk` characters every `delay` s.

    The wire server stores `text` under `name`: a later call with the same name replaces it.
    """
    wire.add_text(name, text)
    return f"openai:text:{name}?chunk={chunk}&delay={delay}"


#: The SDK providers the loopback server speaks for.
SDK_PROVIDERS = ["openai", "anthropic", "google", "openai-responses"]


def base_url_for(wire: WireServer, provider: str) -> str:
    """The loopback server's address for `provider`'s SDK."""
    urls = {
        "openai": wire.openai_base_url,
        "openai-responses": wire.openai_base_url,
        "anthropic": wire.anthropic_base_url,
        "google": wire.gemini_base_url,
    }
    return str(urls[provider])


async def until(check: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll `check()` on the running loop until it is true; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        await asyncio.sleep(0.002)


async def ended(widget: StreamWidget | CompareWidget, timeout: float = 30.0) -> Any:
    """Wait until `widget` has ended, however it ended; never raises for a failed answer.

    A `CompareWidget`: its `wait()`, which returns `results`. A `StreamWidget`: its run's task,
    not `wait()` (which raises a failed answer's error and refreshes the displays); returns None.
    """
    if isinstance(widget, CompareWidget):
        return await asyncio.wait_for(widget.wait(), timeout)
    assert widget.run is not None and widget.run.task is not None
    await asyncio.wait_for(asyncio.shield(widget.run.task), timeout)
    return None


# -- an in-process model -------------------------------------------------------------------


@dataclass(frozen=True)
class FakeAnswer:
    """What a `fake:` model answers: `thinking`, then `text` in `chunk`-character deltas, one
    every `delay` s, then `calls` (tool name, JSON arguments) whose arguments stream in pieces,
    and usage on the final chunk. With `error`, an `error_type` is raised after `error_after`
    deltas instead. Asked again with tool results, it answers "The tools said: [result]. Done."
    (as the wire server's `weather-loop` does)."""

    text: str = ""
    chunk: int = 4
    delay: float = 0.0
    thinking: str = ""
    calls: tuple[tuple[str, str], ...] = ()
    usage: Usage | None = None
    error: str = ""
    error_type: type[LLMWidgetsError] = ProviderError
    error_after: int = 0


class FakeProvider:
    """`fake:<name>` models answering from `FakeAnswer`s in the test's own event loop.

    The outside service replaced through the public extension point (`register_provider`), for
    tests about widgets and the magic rather than the wire. `requests` is every `Request` it got;
    `closed` counts the answers closed before their end (Stop).
    """

    name = "fake"
    label = "Fake"
    note = ""
    images = True  # Message.images are kept on the request, as sent

    def __init__(self) -> None:
        self.answers: dict[str, FakeAnswer] = {}
        self.requests: list[Request] = []
        self.closed = 0

    def reset(self) -> None:
        """Forget every script and request (the `fake` fixture does, before each test)."""
        self.answers.clear()
        self.requests.clear()
        self.closed = 0

    def model(self, name: str, text: str = "", **answer: Any) -> str:
        """Script the model `fake:<name>` (a later call with the same name replaces it)."""
        self.answers[name] = FakeAnswer(text, **answer)
        return f"fake:{name}"

    async def stream(self, request: Request) -> AsyncGenerator[StreamChunk, None]:
        # What was sent, as it was then (the tool loop goes on appending to the list it passed).
        self.requests.append(replace(request, messages=list(request.messages)))
        answer = self.answers.get(request.model)
        if answer is None:
            raise ModelNotFoundError(
                f"fake:{request.model} has no scripted answer", provider=self.name
            )
        results = _latest_results(request.messages)
        if results:
            quoted = "; ".join(f"[{r}]" for r in results)
            answer = FakeAnswer(f"The tools said: {quoted}. Done.", chunk=8, delay=answer.delay)
        ended = False
        try:
            async for chunk in _play(answer, request.model):
                yield chunk
            ended = True
        finally:
            if not ended:
                self.closed += 1


#: The one `fake:` provider: the kernel keeps provider objects per target (_request.py), so every
#: test scripts this one, reset by the `fake` fixture.
FAKE = FakeProvider()


async def _play(answer: FakeAnswer, model: str) -> AsyncGenerator[StreamChunk, None]:
    if answer.thinking:
        yield StreamChunk(thinking=answer.thinking, model=model)
    size = max(1, answer.chunk)
    for n, start in enumerate(range(0, len(answer.text), size)):
        if answer.error and n == answer.error_after:
            break
        if answer.delay:
            await asyncio.sleep(answer.delay)
        yield StreamChunk(delta=answer.text[start : start + size], model=model)
    if answer.error:
        raise answer.error_type(f"Fake failed: {answer.error}", provider="fake", model=model)
    calls: list[ToolCall] = []
    for index, (name, arguments) in enumerate(answer.calls):
        calls.append(ToolCall(index, id=f"fake_{index}", name=name))
        ends = range(size, len(arguments) + size, size) if arguments else [0]
        for end in ends:  # the arguments grow, as providers send them
            calls[-1] = replace(calls[-1], arguments=arguments[:end])
            yield StreamChunk(tool_calls=_copies(calls), model=model)
    yield StreamChunk(
        model=model,
        finish_reason="tool_calls" if calls else "stop",
        raw_finish_reason="tool_calls" if calls else "stop",
        usage=answer.usage or Usage(12, max(1, len(answer.text) // 4)),
        tool_calls=_copies(calls),
    )


def _copies(calls: Sequence[ToolCall]) -> tuple[ToolCall, ...]:
    return tuple(replace(c) for c in calls)


def _latest_results(messages: Sequence[Message]) -> list[str]:
    """The tool results a request ends with (after the model's last turn)."""
    results: list[str] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        results.append(message.content)
    return results[::-1]


# -- notebooks run headless ----------------------------------------------------------------


def code_notebook(cells: list[str]) -> nbformat.NotebookNode:
    """A notebook of code cells bound to the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run like `jupyter nbconvert --execute`: nbclient and the venv's python3 kernel."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def saved_markdown(nb: nbformat.NotebookNode, path: Path) -> str:
    """Write `nb` to `path`, read it back and export it to markdown, as nbconvert would."""
    import nbformat
    from nbconvert import MarkdownExporter

    nbformat.write(nb, path)
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(path, as_version=4))
    return body
