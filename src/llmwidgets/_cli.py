"""`python -m llmwidgets "prompt"`: try a model or an alias file from a terminal, no notebook.

The answer streams to stdout as it arrives (rendered as markdown by `rich` when it is installed
and stdout is a terminal, plain text otherwise); a one-line summary (model, tokens, tokens/s, time
to first token, cost) goes to stderr, so `python -m llmwidgets ... > answer.md` keeps only the
answer. Ctrl-C stops the request and keeps what arrived (exit status 130). `-O KEY=VALUE` passes
a provider option, as `%%llm -O` does (`-m replay:long -O delay=0.05` plays a recording slowly).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from llmwidgets._chunks import CHARS_PER_TOKEN, Response
from llmwidgets._config import DEFAULT_ALIAS
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._interrupt import ctrl_c_calls
from llmwidgets._pricing import cost

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.segment import Segment

#: Exit statuses: a failed answer, and a stop by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_ERROR = 1
EXIT_STOPPED = 130
#: How often the terminal redraws the growing answer.
FRAMES_PER_SECOND = 12


def summary_line(response: Response) -> str:
    """'openai:gpt-4o-mini · 120 tokens · 45.2 tok/s · TTFT 0.31 s · $0.0001' for a terminal.

    A stopped answer has no count from the provider: its tokens and speed are estimated from
    the text, marked `~`, as the widget's counter shows them.
    """
    spec = f"{response.provider}:{response.model}" if response.provider else response.model
    parts = [spec]
    if response.usage is not None:
        parts.append(f"{response.usage.output_tokens} tokens")
        speed = response.tokens_per_second
    else:
        estimate = round(len(response.text + response.thinking) / CHARS_PER_TOKEN)
        parts.append(f"~{estimate} tokens")
        speed = _speed(response, estimate)
    if speed is not None:
        parts.append(f"{'~' if response.usage is None else ''}{speed:.1f} tok/s")
    if response.time_to_first_token is not None:
        parts.append(f"TTFT {response.time_to_first_token:.2f} s")
    price = cost(response.provider, response.model, response.usage)
    if price is not None:
        parts.append(f"${price:.4f}" if price else "$0")
    if response.finish_reason in ("length", "cancelled"):
        parts.append("stopped: token limit" if response.finish_reason == "length" else "stopped")
    return " · ".join(parts)


def _speed(response: Response, tokens: int) -> float | None:
    """Tokens per second from the first token to the end, as `Response.tokens_per_second`."""
    firsts = [
        t for t in (response.time_to_first_token, response.time_to_first_thinking) if t is not None
    ]
    if not tokens or not response.total_time or not firsts:
        return None
    generating = response.total_time - min(firsts)
    return tokens / generating if generating > 0.05 else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m llmwidgets",
        description="Stream one answer to the terminal (the summary goes to stderr).",
    )
    p.add_argument("prompt", nargs="+", help="the question (several words are joined)")
    p.add_argument("-m", "--model", default=DEFAULT_ALIAS, help="alias or provider:model")
    p.add_argument("-s", "--system", help="system prompt")
    p.add_argument("-t", "--temperature", type=float)
    p.add_argument("--max-tokens", type=int, dest="max_tokens")
    p.add_argument("--profile", help="the alias file's [profiles.NAME] to use")
    p.add_argument(
        "-O",
        "--option",
        dest="options",
        action="append",
        type=provider_option,
        metavar="KEY=VALUE",
        help="a provider option (repeatable); VALUE is read as JSON when it can be",
    )
    p.add_argument("--plain", action="store_true", help="no markdown rendering, even with rich")
    return p


def provider_option(item: str) -> tuple[str, Any]:
    """`KEY=VALUE` as `(key, value)`, the value read as JSON when it can be (as `%%llm -O`)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"takes KEY=VALUE, got {item!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value.strip()


async def answer(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Stream the answer to `out`; returns the exit status."""
    from llmwidgets._stream import stream

    options: dict[str, Any] = {
        k: v
        for k, v in vars(args).items()
        if k in ("system", "temperature", "max_tokens", "profile") and v is not None
    }
    options.update(dict(args.options or []))
    try:
        chunks = stream(args.model, " ".join(args.prompt), **options)
    except LLMWidgetsError as exc:  # an unknown alias, a broken alias file: nothing was sent
        err.write(f"{exc.title}: {exc.message}\n")
        return EXIT_ERROR
    show = _rich_writer(out) if not args.plain else None
    text = ""
    status = 0
    try:
        async with chunks:
            async for chunk in chunks:
                if not chunk.delta:
                    continue
                text += chunk.delta
                if show is not None:
                    show(text)
                else:
                    out.write(chunk.delta)
                    out.flush()
    except asyncio.CancelledError:
        status = EXIT_STOPPED
    except LLMWidgetsError as exc:
        _end_line(out, text, show)
        err.write(f"{exc.title}: {exc.message}\n")
        return EXIT_ERROR
    _end_line(out, text, show)
    response = chunks.response
    if status == EXIT_STOPPED:
        response.finish_reason = "cancelled"
    err.write(summary_line(response) + "\n")
    return status


def _end_line(out: TextIO, text: str, show: Any) -> None:
    if show is not None:
        show.close()
    elif text and not text.endswith("\n"):
        out.write("\n")
    out.flush()


class _RichLive:
    """The growing answer as markdown: each finished block is printed once, for good, and only
    the block still being written is redrawn in place (rich's `Live`), cut to the screen.

    Redrawing the whole answer breaks once it is taller than the terminal: rich can move the
    cursor up only within the screen, so every redraw left another copy in the scrollback. The
    finished blocks are printed as lines of the whole answer rendered at once, so the spacing
    between blocks is what rich gives one document.
    """

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=out)
        # Redrawn here, on each delta, rather than on rich's timer thread: a redraw racing a
        # print of finished blocks left stray lines on the screen.
        self.live = Live(console=self.console, auto_refresh=False, transient=True)
        self.text = ""
        self.settled = 0  # characters of `text` in finished blocks
        self.lines = 0  # lines of them printed
        self.drawn_at = 0.0
        self.pending: asyncio.TimerHandle | None = None  # a draw of text that came too soon
        self.live.start()

    def __call__(self, text: str) -> None:
        """Show the answer so far; drawn at most `FRAMES_PER_SECOND` times a second (a fast
        model sends hundreds of pieces a second, and each draw renders markdown). Text that
        comes too soon is drawn when the frame is due, so a pause never hides the last words."""
        self.text = text
        wait = self.drawn_at + 1 / FRAMES_PER_SECOND - time.monotonic()
        if wait <= 0:
            self._draw()
        elif self.pending is None:
            with contextlib.suppress(RuntimeError):  # no loop runs: the next text draws it
                self.pending = asyncio.get_running_loop().call_later(wait, self._draw)

    def _draw(self) -> None:
        from rich.console import Group
        from rich.markdown import Markdown
        from rich.text import Text

        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        self.drawn_at = time.monotonic()
        text = self.text
        settled = self.settled + open_block_start(text[self.settled :])
        if settled > self.settled:
            self._print_up_to(settled)
        tail = Markdown(text[self.settled :])
        self.live.update(_Tail(Group(Text(""), tail) if self.lines else tail), refresh=True)

    def close(self) -> None:
        from rich.text import Text

        if self.pending is not None:
            self.pending.cancel()
        self.live.update(Text(""))
        self.live.stop()  # transient: the redrawn block goes, and is printed for good below
        self._print_up_to(len(self.text))

    def _print_up_to(self, end: int) -> None:
        from rich.markdown import Markdown

        lines = self.console.render_lines(Markdown(self.text[:end]), pad=False)
        self.console.print(_Lines(lines[self.lines :]))
        self.settled, self.lines = end, len(lines)


def open_block_start(markdown: str) -> int:
    """Where the last top-level block of `markdown` starts: the blocks before it are finished
    (later text can only extend or follow the last one)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt().enable("strikethrough").enable("table").parse(markdown)
    starts = [t.map[0] for t in tokens if t.level == 0 and t.nesting >= 0 and t.map]
    if not starts:
        return 0
    lines = markdown.split("\n")  # as markdown-it counts them (not str.splitlines' separators)
    return sum(len(line) + 1 for line in lines[: max(starts)])


class _Lines:
    """Lines rendered before, printed as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        for line in self.lines:
            yield from line
            yield Segment.line()


class _Tail:
    """The last lines of a renderable that fit the screen (the newest text stays in view)."""

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options, pad=False)
        yield _Lines(lines[-max(1, options.size.height - 1) :])


def _rich_writer(out: TextIO) -> _RichLive | None:
    """Markdown rendering where it helps: rich installed and a terminal to draw on."""
    if not out.isatty():
        return None
    try:
        return _RichLive(out)
    except ImportError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:  # Ctrl-C before the stream started
        return EXIT_STOPPED


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.ensure_future(answer(args, sys.stdout, sys.stderr))
    try:
        with ctrl_c_calls(asyncio.get_running_loop(), task.cancel):
            return await task
    except asyncio.CancelledError:
        return EXIT_STOPPED
