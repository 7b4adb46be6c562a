"""The plain-text path, where no widget front end is attached: print the answer as it streams.

The cell waits for the answer, so a notebook executed headless (nbclient, nbconvert, papermill)
saves it, and in a kernel the printed text is finally replaced by one markdown output per answer.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from IPython.core.error import UsageError

from llmwidgets._chunks import Response, ToolCall
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._interrupt import STOPPED
from llmwidgets._magics.bind import Binder
from llmwidgets._magics.call import LLMCall
from llmwidgets._widgets.saved_copy import excerpt


async def run_plain(call: LLMCall, binder: Binder, *, in_kernel: bool) -> None:
    """Print the answers; an expected failure fails the cell with a one-line UsageError."""
    try:
        await _print_answers(call, binder, in_kernel=in_kernel)
    except LLMWidgetsError as exc:
        # An expected failure (a 401, an unknown alias): IPython shows a UsageError as its
        # one-line message, where any other exception prints a long traceback. The cell
        # still fails, so nbclient / papermill stop; the original is the UsageError's cause.
        raise UsageError(f"{exc.title}: {exc.message}") from exc


async def _print_answers(call: LLMCall, binder: Binder, *, in_kernel: bool) -> None:
    """Print each answer as it streams; models one after another.

    In a kernel (nbclient, nbconvert, papermill, console) the printed text becomes many stream
    outputs in a saved notebook, so once every answer has ended it is replaced by one output per
    answer: the same safe HTML copy the widgets save (raw HTML in an answer stays text, remote
    images become links), and the whole answer as `text/plain`.
    """
    finals: list[tuple[str, Response]] = []
    for model in call.models:
        if len(call.models) > 1:
            _write(f"\n── {model} ──\n", flush=True)
        response = await _print_one(model, call, binder, in_kernel=in_kernel)
        finals.append((model, response))
        if not in_kernel:
            _write_summary(response)
        if len(call.models) == 1:
            binder.bind_response(response, strict=True)
        else:
            binder.bind_each(finals)
    if in_kernel:
        from IPython.display import clear_output, display

        clear_output(wait=True)
        for model, response in finals:
            display(_final_bundle(model, response, titled=len(finals) > 1), raw=True)


def _final_bundle(model: str, response: Response, *, titled: bool) -> dict[str, Any]:
    """The saved form of a printed answer: HTML with a model line, and the plain text."""
    from llmwidgets._widgets.saved_copy import response_markdown, saved_bundle

    spec = f"{response.provider}:{response.model}" if response.provider else model
    head = f"**{model}**\n\n" if titled else ""
    return saved_bundle(f"{head}{response_markdown(response)}\n\n*{spec}*", response.text)


def _write_summary(response: Response) -> None:
    """In a terminal, the counter's figures: one line on stderr, beside the answer."""
    from llmwidgets._cli import summary_line

    sys.stderr.write(summary_line(response) + "\n")
    sys.stderr.flush()


async def _print_one(model: str, call: LLMCall, binder: Binder, *, in_kernel: bool) -> Response:
    from llmwidgets._stream import stream

    flush = not in_kernel  # in a kernel, stdout batches writes itself (one message per ~0.2 s)

    kwargs = call.stream_kwargs()
    if kwargs.get("approve"):
        kwargs["approve"] = _ask_on_stdin
    chunks = stream(model, call.message_prompt, **kwargs)
    ends_in_newline = True
    try:
        async with chunks:
            async for chunk in chunks:
                if chunk.delta:
                    _write(chunk.delta, flush=flush)
                    ends_in_newline = chunk.delta.endswith("\n")
                event = chunk.tool_event
                if event is not None and event.result is not None:
                    line = f"[{event.call.name}({event.call.arguments}) -> {event.status}: "
                    _write(("" if ends_in_newline else "\n") + line, flush=flush)
                    _write(f"{excerpt(event.result.content, 200)}]\n", flush=flush)
                    ends_in_newline = True
    except asyncio.CancelledError:
        _write(("" if ends_in_newline else "\n") + "[stopped]\n", flush=True)
        response = chunks.response
        response.finish_reason = "cancelled"
        if len(call.models) == 1:
            binder.bind(response)  # the partial answer, as the widget keeps it
        if not in_kernel:
            _write_summary(response)  # its figures so far, ending "stopped"
        raise KeyboardInterrupt(STOPPED) from None
    except LLMWidgetsError:
        _write("" if ends_in_newline else "\n", flush=True)
        raise
    _write("" if ends_in_newline else "\n", flush=True)
    return chunks.response


def _ask_on_stdin(call: ToolCall) -> bool:
    """`--approve` without widgets: ask on the terminal; where nothing can answer (nbclient,
    papermill), the call is declined, never run unasked."""
    try:
        answer = input(f"Allow {call.name}({call.arguments})? [y/N] ")
    except Exception:  # StdinNotImplementedError, EOFError: no one to ask
        return False
    return answer.strip().lower() in ("y", "yes")


def _write(text: str, *, flush: bool) -> None:
    sys.stdout.write(text)
    if flush:
        sys.stdout.flush()
