"""`%%llm` and `%llm`: ask a model from a cell, with the answer streaming into a widget.

How a cell runs, and why:

* **Widget, returns at once** (the default in a notebook UI): the cell shows a `StreamWidget`
  and ends; the answer streams afterwards, so Stop works and other cells can run.
* **Waits** (`--wait`, and always where no widget front end is attached): ipykernel handles no
  widget messages while a cell blocks, and `nest_asyncio` does not work on ipykernel 7, so the
  magic never blocks. Instead an input transformer rewrites a `%%llm` cell (or a cell holding only
  `%llm` lines) into `await <the magic>`: IPython runs it as top-level await, the kernel keeps
  handling Stop clicks, and the interrupt button cancels the await, which stops the stream, keeps
  the partial answer and raises KeyboardInterrupt in the cell.
* **Plain text** where no widget front end is attached: terminal IPython, and kernels driven by
  nbclient / `jupyter nbconvert --execute` / papermill / `jupyter console`. The answer is printed
  as it streams and the cell waits, so a notebook executed headless saves the answer. A kernel
  counts as headless when its execute requests carry no `cellId` metadata (JupyterLab, Notebook 7
  and VS Code send one; nbclient and consoles do not) and no ipywidgets manager has opened its
  control comm. `LLMWIDGETS_HEADLESS=1` forces plain text, `=0` forces the widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from llmwidgets.chunks import Response
from llmwidgets.errors import LLMWidgetsError
from llmwidgets.magics.call import LLMCall, parse_call
from llmwidgets.magics.options import Format, split_line, with_options

__all__ = [
    "LLMCall",
    "LLMMagics",
    "code_blocks",
    "keep_question_marks",
    "parse_call",
    "parse_json",
    "register",
    "run_magic",
    "split_line",
    "transform_cell",
]

HEADLESS_ENV = "LLMWIDGETS_HEADLESS"


# -- output formats ----------------------------------------------------------------------------
def code_blocks(text: str) -> str:
    """The answer's fenced (or indented) code blocks, joined by a blank line; "" if none."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().parse(text)
    return "\n".join(t.content for t in tokens if t.type in ("fence", "code_block")).rstrip("\n")


def parse_json(text: str) -> Any:
    """The answer as JSON: the whole text, else its first fenced block (```json ... ```)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    from markdown_it import MarkdownIt

    for token in MarkdownIt().parse(text):
        if token.type == "fence":
            try:
                return json.loads(token.content)
            except ValueError as exc:
                raise ValueError(f"The answer's code block is not valid JSON: {exc}") from None
    raise ValueError("The answer is not valid JSON and holds no ```json block.")


def formatted(response: Response, fmt: Format) -> Any:
    """What `-o NAME` binds: the Response (markdown), its text, its code, or its parsed JSON."""
    if fmt == "text":
        return response.text
    if fmt == "code":
        return code_blocks(response.text)
    if fmt == "json":
        return parse_json(response.text)
    return response


# -- where are we? -----------------------------------------------------------------------------
Mode = Literal["widget", "text"]


def display_mode(shell: Any) -> Mode:
    """`widget` where a notebook front end renders widgets, else `text` (see the module doc)."""
    forced = os.environ.get(HEADLESS_ENV, "").strip().lower()
    kernel = getattr(shell, "kernel", None)
    if forced in ("1", "true", "yes"):
        return "text"
    if kernel is None:
        return "text"
    if forced in ("0", "false", "no"):
        return "widget"
    if _widget_manager_connected() or "google.colab" in sys.modules:
        return "widget"
    parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else {}
    metadata = (parent or {}).get("metadata") or {}
    return "widget" if "cellId" in metadata else "text"


def _widget_manager_connected() -> bool:
    """JupyterLab / Notebook 7 open ipywidgets' control comm when they connect to a kernel."""
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    widget = getattr(widget_module, "Widget", None)
    return getattr(widget, "_control_comm", None) is not None


# -- running -----------------------------------------------------------------------------------
class _Binder:
    """Binds `-o NAME` in the user namespace once the answer has ended."""

    def __init__(self, shell: Any, call: LLMCall) -> None:
        self.shell = shell
        self.call = call

    def bind(self, value: Any) -> None:
        if self.call.out is not None:
            self.shell.user_ns[self.call.out] = value

    def bind_response(self, response: Response | None, *, strict: bool) -> None:
        if self.call.out is None or response is None:
            return
        try:
            self.bind(formatted(response, self.call.format))
        except ValueError as exc:
            self.bind(response.text)
            if strict:
                raise
            print(f"llmwidgets: -o {self.call.out}: {exc} Bound the raw text.", file=sys.stderr)


async def run_call(shell: Any, call: LLMCall, *, awaited: bool) -> None:
    """Run one parsed call. `awaited`: the caller awaits this to the end (may block the cell)."""
    binder = _Binder(shell, call)
    if display_mode(shell) == "text":
        try:
            await _print_answers(call, binder, in_kernel=getattr(shell, "kernel", None) is not None)
        except LLMWidgetsError as exc:
            # An expected failure (a 401, an unknown alias): IPython shows a UsageError as its
            # one-line message, where any other exception prints a long traceback. The cell
            # still fails, so nbclient / papermill stop; the original is the UsageError's cause.
            raise UsageError(f"{exc.title}: {exc.message}") from exc
        return
    widget = _show_widget(call, binder)
    if not (call.wait and awaited):
        return
    try:
        await widget.wait()
    except asyncio.CancelledError:  # the kernel's interrupt cancels the awaiting cell
        _stop(widget)
        with contextlib.suppress(Exception):
            await widget.wait()
        raise KeyboardInterrupt(
            "Interrupted: the stream was stopped; the partial answer is kept."
        ) from None
    if call.format == "json" and call.out is not None and len(call.models) == 1:
        binder.bind_response(widget.response, strict=True)  # re-raise a parse error in the cell


def _stop(widget: Any) -> None:
    if hasattr(widget, "stop_all"):
        widget.stop_all()
    else:
        widget.stop()


def _show_widget(call: LLMCall, binder: _Binder) -> Any:
    from IPython.display import display

    kwargs = call.stream_kwargs()
    if len(call.models) == 1:
        from llmwidgets.widgets.stream import StreamWidget

        widget = StreamWidget(call.models[0], call.prompt, **kwargs)
        widget.on_end(lambda w: binder.bind_response(w.response, strict=False))
        display(widget)
        return widget
    try:
        from llmwidgets.widgets.compare import compare
    except ImportError:
        raise UsageError(
            "Comparing several models needs llmwidgets.widgets.compare, which is not available "
            "in this installation. Name one model."
        ) from None
    grid = compare(call.models, call.prompt, **kwargs)

    def on_pane_end(_pane: Any) -> None:
        if grid.done and call.out is not None:
            values: dict[str, Any] = {}
            for label, response in zip(grid.labels, grid.results, strict=True):
                if response is not None:
                    try:
                        values[label] = formatted(response, call.format)
                    except ValueError:
                        values[label] = response.text
            binder.bind(values)

    for pane in grid.panes:
        pane.on_end(on_pane_end)
    on_pane_end(None)  # every pane may have failed before starting
    display(grid)
    return grid


async def _print_answers(call: LLMCall, binder: _Binder, *, in_kernel: bool) -> None:
    """The headless path: print each answer as it streams; models one after another.

    In a kernel (nbclient, nbconvert, papermill, console) the printed text becomes many stream
    outputs in a saved notebook, so once every answer has ended it is replaced by one output per
    answer holding `text/markdown` and `text/plain`, which GitHub and nbconvert render.
    """
    results: dict[str, Any] = {}
    finals: list[tuple[str, Response]] = []
    for model in call.models:
        if len(call.models) > 1:
            _write(f"\n── {model} ──\n", flush=True)
        response = await _print_one(model, call, binder, flush=not in_kernel)
        finals.append((model, response))
        if len(call.models) == 1:
            binder.bind_response(response, strict=True)
        else:
            try:
                results[model] = formatted(response, call.format)
            except ValueError:
                results[model] = response.text
            binder.bind(results)
    if in_kernel:
        from IPython.display import clear_output, display

        clear_output(wait=True)
        for model, response in finals:
            display(_final_bundle(model, response, titled=len(finals) > 1), raw=True)


def _final_bundle(model: str, response: Response, *, titled: bool) -> dict[str, str]:
    """The saved form of a printed answer: markdown with a model line, and the plain text."""
    spec = f"{response.provider}:{response.model}" if response.provider else model
    head = f"**{model}**\n\n" if titled else ""
    return {
        "text/markdown": f"{head}{response.text}\n\n*{spec}*",
        "text/plain": response.text,
    }


async def _print_one(model: str, call: LLMCall, binder: _Binder, *, flush: bool) -> Response:
    from llmwidgets.stream import stream

    chunks = stream(model, call.prompt, **call.stream_kwargs())
    ends_in_newline = True
    try:
        async with chunks:
            async for chunk in chunks:
                if chunk.delta:
                    # In a kernel, stdout batches writes itself (one message per ~0.2 s).
                    _write(chunk.delta, flush=flush)
                    ends_in_newline = chunk.delta.endswith("\n")
    except asyncio.CancelledError:
        _write(("" if ends_in_newline else "\n") + "[stopped]\n", flush=True)
        response = chunks.response
        response.finish_reason = "cancelled"
        if len(call.models) == 1:
            binder.bind(response)  # the partial answer, as the widget keeps it
        raise KeyboardInterrupt(
            "Interrupted: the stream was stopped; the partial answer is kept."
        ) from None
    except LLMWidgetsError:
        _write("" if ends_in_newline else "\n", flush=True)
        raise
    _write("" if ends_in_newline else "\n", flush=True)
    return chunks.response


def _write(text: str, *, flush: bool) -> None:
    sys.stdout.write(text)
    if flush:
        sys.stdout.flush()


def run_blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run the call to its end where no loop is running (terminal IPython, plain scripts).

    Uses IPython's own persistent loop, so provider connection pools stay usable across calls.
    Ctrl-C stops the stream cleanly before KeyboardInterrupt reaches the prompt.
    """
    from IPython.core.async_helpers import get_asyncio_loop

    loop = get_asyncio_loop()
    task = loop.create_task(coro)
    try:
        loop.run_until_complete(task)
    except KeyboardInterrupt:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)  # re-raises the task's KeyboardInterrupt
        raise


async def run_magic(shell: Any, line: str, cell: str | None) -> None:
    """What a rewritten `%%llm` cell awaits (see `transform_cell`)."""
    await run_call(shell, parse_call(shell, line, cell), awaited=True)


# -- the input transformer ---------------------------------------------------------------------
_AWAIT = (
    "await __import__('llmwidgets.magics').magics.run_magic(get_ipython(), {line!r}, {cell!r})\n"
)


def transform_cell(lines: list[str]) -> list[str]:
    """Rewrite a `%%llm` cell, or a cell of only `%llm` lines, into top-level `await`s.

    Runs among IPython's cleanup transforms, before its own magic handling; any other cell is
    returned untouched. `%%llm?` and `%llm ?` (help) are left to IPython.
    """
    if not lines:
        return lines
    first = lines[0].rstrip("\r\n")
    head, _, line = first.partition(" ")
    if head.rstrip() == "%%llm":
        return [_AWAIT.format(line=line.strip(), cell="".join(lines[1:]))]
    code = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if code and all(
        ln.split(None, 1)[0] == "%llm" and not ln[0].isspace() and not _asks_help(ln) for ln in code
    ):
        return [_AWAIT.format(line=ln.strip()[len("%llm") :].strip(), cell=None) for ln in code]
    return lines


_QUESTION_LINE = re.compile(r"(?P<indent>[ \t]*)%llm[ \t]+(?P<args>.*\?)[ \t]*")


def _asks_help(line: str) -> bool:
    """`%llm ?` / `%llm ??`: a prompt of nothing but the help mark."""
    m = _QUESTION_LINE.fullmatch(line.rstrip("\r\n"))
    return m is not None and not m["args"].rstrip("?").strip()


def keep_question_marks(lines: list[str]) -> list[str]:
    """Rewrite `%llm What is a monad?` into the call IPython makes for a line magic.

    Otherwise IPython's help transformer reads the trailing `?` as `monad?`, a request for help
    on an object, and answers "Object `monad` not found." `%llm?` still shows the help, and so
    does `%llm ?` (which IPython would otherwise send as the prompt "?"). A cell magic's body is
    not code, so such a cell is left alone.
    """
    if not lines or lines[0].lstrip().startswith("%%"):
        return lines
    out = []
    for line in lines:
        m = _QUESTION_LINE.fullmatch(line.rstrip("\r\n"))
        if m and _asks_help(line):
            line = f"{m['indent']}%llm{'??' if m['args'].startswith('??') else '?'}\n"
        elif m:
            line = f"{m['indent']}get_ipython().run_line_magic('llm', {m['args']!r})\n"
        out.append(line)
    return out


def _can_await(shell: Any) -> bool:
    """Top-level await is available: a kernel (its loop runs cells) with autoawait on asyncio."""
    from IPython.core.async_helpers import _asyncio_runner

    return (
        getattr(shell, "kernel", None) is not None
        and bool(getattr(shell, "autoawait", False))
        and getattr(shell, "loop_runner", None) is _asyncio_runner
    )


def _transformer(shell: Any) -> Callable[[list[str]], list[str]]:
    def llm_await_transform(lines: list[str]) -> list[str]:
        if _can_await(shell):
            lines = transform_cell(lines)
        return keep_question_marks(lines)  # terminal IPython, or %llm mixed with other code

    llm_await_transform.llmwidgets = True  # type: ignore[attr-defined]
    return llm_await_transform


# -- the magic ---------------------------------------------------------------------------------
@magics_class
class LLMMagics(Magics):
    @no_var_expand
    @line_cell_magic
    @with_options  # its docstring, the help `%%llm?` shows, is built from the option table
    def llm(self, line: str, cell: str | None = None) -> None:
        shell = self.shell
        call = parse_call(shell, line, cell)
        coro = run_call(shell, call, awaited=True)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            run_blocking(coro)  # no loop runs: terminal IPython or a plain InteractiveShell
            return
        # A loop runs (a kernel) but this call was not rewritten into an `await` (autoawait is
        # off, or %llm is mixed with other code): start it and return.
        coro.close()
        if call.wait or display_mode(shell) == "text":
            print(
                "llmwidgets: this call cannot wait here (it needs %%llm first in its cell, or a "
                "cell holding only %llm lines, with %autoawait on); the answer streams after the "
                "cell ends.",
                file=sys.stderr,
            )
        task = asyncio.ensure_future(run_call(shell, call, awaited=False))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


_BACKGROUND: set[asyncio.Future[None]] = set()


def register(ipython: Any) -> None:
    """`%load_ext llmwidgets`: the magics, and the transformer that lets them wait (and keeps
    a line magic's trailing `?` in its prompt)."""
    ipython.register_magics(LLMMagics)
    transforms = ipython.input_transformers_cleanup
    if not any(getattr(t, "llmwidgets", False) for t in transforms):
        transforms.append(_transformer(ipython))
