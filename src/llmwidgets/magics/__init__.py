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
from dataclasses import dataclass, field
from typing import Any, Literal

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from llmwidgets.chunks import Response
from llmwidgets.config import DEFAULT_ALIAS, close_alias, load_config
from llmwidgets.errors import LLMWidgetsError
from llmwidgets.interpolate import PromptVariableError, interpolate

Format = Literal["markdown", "text", "code", "json"]
FORMATS: tuple[str, ...] = ("markdown", "text", "code", "json")
HEADLESS_ENV = "LLMWIDGETS_HEADLESS"
#: How close a line magic's first word must be to an alias to be refused as a typo of it. Higher
#: than difflib's 0.6, since the word is usually just the prompt's first word: at 0.75, "past"
#: would be taken for a typo of an alias `fast`; 0.8 still catches "chatbt", "judeg", "lcoal".
TYPO_CUTOFF = 0.8

#: Options of the magic line and whether each takes a value (the rest are flags).
_VALUE_OPTIONS = {
    "-s", "--system", "-t", "--temperature", "-m", "--max-tokens", "-o", "--out",
    "--format", "-f", "--base-url", "--timeout", "-O", "--option",
}  # fmt: skip
_FLAG_OPTIONS = {"--wait", "-w", "--raw", "-r", "-h", "--help"}


# -- parsing -----------------------------------------------------------------------------------
@dataclass
class LLMCall:
    """One parsed `%%llm` / `%llm` invocation."""

    models: list[str]
    prompt: str
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    out: str | None = None
    wait: bool = False
    format: Format = "markdown"
    base_url: str | None = None
    timeout: float | None = None
    raw: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def stream_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `stream()`, `StreamWidget` and `compare()`."""
        kw: dict[str, Any] = dict(self.options)
        for name in ("system", "temperature", "max_tokens", "base_url", "timeout"):
            value = getattr(self, name)
            if value is not None:
                kw[name] = value
        return kw


def is_model_word(word: str, aliases: frozenset[str]) -> bool:
    """In `%llm WORD ...`: is WORD a model rather than the first word of the prompt?"""
    return ":" in word or word in aliases or word == DEFAULT_ALIAS


def _defined_aliases() -> frozenset[str]:
    try:
        return frozenset(load_config().aliases)
    except LLMWidgetsError:
        return frozenset()  # a broken lockfile is reported when the model is resolved


def split_line(
    line: str, aliases: frozenset[str], *, all_models: bool = False
) -> tuple[list[str], list[str], str]:
    """Split a magic line into (option tokens, model words, rest of the line).

    `all_models`: every word that is not an option is a model (the `%%llm` line holds no
    prompt), so an unknown alias reaches resolution, which names it, and options after it
    are still read as options.

    Only the head of the line is tokenized, so a prompt after it keeps its apostrophes, quotes
    and spacing: `%llm -t 0 chatbot What's a monad?` -> (["-t", "0"], ["chatbot"], "What's...").
    Option values may be quoted: `-s "Answer in French"`.
    """
    import shlex

    rest = line.replace("\r", " ").strip()
    opts: list[str] = []
    models: list[str] = []
    while rest:
        word = rest.split(None, 1)[0]
        after = rest[len(word) :].lstrip()
        name = word.split("=", 1)[0]
        if word == "--":
            rest = after
            break
        if name in _FLAG_OPTIONS:
            opts.append(word)
        elif name in _VALUE_OPTIONS:
            opts.append(word)
            if "=" not in word:
                value, after = _take_value(after, shlex)
                if value is None:
                    raise UsageError(f"Option {word} needs a value.")
                opts.append(value)
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            raise UsageError(f"Unknown option {word!r}. See %%llm? for the options.")
        elif all_models or is_model_word(word, aliases):
            models.append(word)
        else:
            break
        rest = after
    return opts, models, rest


def _take_value(text: str, shlex: Any) -> tuple[str | None, str]:
    """The next (possibly quoted) word of `text`, and what follows it."""
    if not text:
        return None, ""
    if text[0] in "\"'":
        end = text.find(text[0], 1)
        while end != -1 and text[end - 1] == "\\":
            end = text.find(text[0], end + 1)
        if end == -1:
            raise UsageError(f"Unclosed quote in option value: {text!r}")
        return shlex.split(text[: end + 1])[0], text[end + 1 :].lstrip()
    word = text.split(None, 1)[0]
    return word, text[len(word) :].lstrip()


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


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
def parse_call(shell: Any, line: str, cell: str | None) -> LLMCall:
    """Parse the magic line and body and interpolate the prompt; raises UsageError when wrong."""
    aliases = _defined_aliases()
    opts, models, rest = split_line(line, aliases, all_models=cell is not None)
    if cell is None:
        prompt = rest
        if not models and rest:
            _refuse_alias_typo(rest.split(None, 1)[0], aliases)
    else:
        if rest:
            models.extend(rest.split())  # the cell magic's line holds only models and options
        prompt = cell.replace("\r\n", "\n").replace("\r", "\n")
    parser = LLMMagics.llm.parser
    try:
        args = parser.parse_args(opts)
    except SystemExit:  # -h / a bad value: argparse has printed why
        raise UsageError("See %%llm? for the options.") from None
    prompt = prompt.strip()
    if not prompt:
        raise UsageError(
            "Nothing to ask: put the prompt in the cell under %%llm, or after the model in "
            "%llm chatbot What is a monad?"
        )
    if not args.raw:
        try:
            prompt = interpolate(prompt, shell.user_ns)
        except PromptVariableError as exc:
            raise UsageError(str(exc)) from None
    if args.out is not None and not args.out.isidentifier():
        raise UsageError(f"-o needs a variable name, got {args.out!r}.")
    extra = {}
    for item in args.option or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"-O takes KEY=VALUE, got {item!r}.")
        extra[key.strip()] = _option_value(value.strip())
    return LLMCall(
        models=models or [DEFAULT_ALIAS],
        prompt=prompt,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        out=args.out,
        wait=args.wait,
        format=args.format,
        base_url=args.base_url,
        timeout=args.timeout,
        raw=args.raw,
        options=extra,
    )


def _refuse_alias_typo(word: str, aliases: frozenset[str]) -> None:
    """`%llm chatbt hi` would send "chatbt hi" to chatbot: refuse it before anything is sent."""
    guess = close_alias(word, aliases, cutoff=TYPO_CUTOFF)
    if guess is not None:
        raise UsageError(
            f"{word!r} is not an alias: did you mean `{guess}`? Nothing was sent. If {word!r} "
            f"starts the prompt, name the model first: %llm {DEFAULT_ALIAS} {word} ..."
        )


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
    @magic_arguments()
    @argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help="an alias from llmwidgets.toml or provider:model (default: chatbot). Several "
        "models stream side by side.",
    )
    @argument("-s", "--system", help="system prompt")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("-m", "--max-tokens", type=int, dest="max_tokens", help="answer length limit")
    @argument(
        "-o",
        "--out",
        metavar="NAME",
        help="when the answer ends, bind it to NAME: the Response with --format markdown, "
        "the text / code (str) or the parsed JSON value with text / code / json. With several "
        "models, a dict {model: value}.",
    )
    @argument(
        "-w",
        "--wait",
        action="store_true",
        help="keep the cell running until the answer is complete (for Run All pipelines whose "
        "next cell reads -o). Stop and the kernel's interrupt button still work.",
    )
    @argument(
        "-f",
        "--format",
        choices=FORMATS,
        default="markdown",
        help="what -o binds (default markdown: the Response)",
    )
    @argument("--base-url", dest="base_url", help="send to this OpenAI/Anthropic-compatible URL")
    @argument("--timeout", type=float, help="seconds the stream may stall before it fails")
    @argument(
        "-O",
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="a provider option (repeatable); VALUE is read as JSON when it can be",
    )
    @argument("-r", "--raw", action="store_true", help="send the prompt as written: no {name}")
    @line_cell_magic
    def llm(self, line: str, cell: str | None = None) -> None:
        """Ask a model; the answer streams into the cell as live markdown, with Stop.

        Examples::

            %%llm
            Explain Python's GIL in two sentences.

            %%llm fast -t 0.2 -o summary
            Summarise this for a newcomer: {text}

            %%llm openai:gpt-4o-mini anthropic:claude-haiku-4-5
            Which is faster, a list or a tuple?

            %%llm --wait --format json -o data
            Give me three colours as a JSON list of strings.

            %llm chatbot What is a monad?
            %llm explain the error in {Out[3]}

        In a line magic the first word is a model if it holds ':' or names an alias (or is
        chatbot); otherwise the whole line is the prompt, unless the word is close to an
        alias (`chatbt`): that is refused as a typo before anything is sent. `{name}` in the prompt is replaced by
        the variable `name` from the notebook (`{In[3]}` and `{Out[3]}` work; `{{` is a literal
        brace; --raw turns this off). An unknown name is an error and nothing is sent.

        The cell returns at once and the answer streams afterwards. With --wait the cell runs
        until the answer ends (it is rewritten into a top-level `await`, so the Stop button and
        the kernel's interrupt keep working; the interrupt keeps the partial answer and raises
        KeyboardInterrupt). Where no widget front end is attached (terminal IPython, nbclient,
        nbconvert --execute, papermill, jupyter console) the answer is printed as plain text and
        the cell always waits; set LLMWIDGETS_HEADLESS=1 or 0 to force either way.
        """
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
