"""`python -m llmwidgets "prompt"`: try a model or an alias file from a terminal, no notebook.

The answer streams to stdout as it arrives (rendered as markdown by `rich` when it is installed
and stdout is a terminal, plain text otherwise); a one-line summary (model, tokens, tokens/s, time
to first token, cost) goes to stderr, so `python -m llmwidgets ... > answer.md` keeps only the
answer. Ctrl-C stops the request and keeps what arrived (exit status 130).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from llmwidgets.chunks import Response
from llmwidgets.config import DEFAULT_ALIAS
from llmwidgets.errors import LLMWidgetsError
from llmwidgets.pricing import cost

#: Exit statuses: a failed answer, and a stop by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_ERROR = 1
EXIT_STOPPED = 130


def summary_line(response: Response) -> str:
    """'openai:gpt-4o-mini · 120 tokens · 45.2 tok/s · TTFT 0.31 s · $0.0001' for a terminal."""
    spec = f"{response.provider}:{response.model}" if response.provider else response.model
    parts = [spec]
    if response.usage is not None:
        parts.append(f"{response.usage.output_tokens} tokens")
    if response.tokens_per_second is not None:
        parts.append(f"{response.tokens_per_second:.1f} tok/s")
    if response.time_to_first_token is not None:
        parts.append(f"TTFT {response.time_to_first_token:.2f} s")
    price = cost(response.provider, response.model, response.usage)
    if price is not None:
        parts.append(f"${price:.4f}" if price else "$0")
    if response.finish_reason in ("length", "cancelled"):
        parts.append("stopped: token limit" if response.finish_reason == "length" else "stopped")
    return " · ".join(parts)


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
    p.add_argument("--plain", action="store_true", help="no markdown rendering, even with rich")
    return p


async def answer(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Stream the answer to `out`; returns the exit status."""
    from llmwidgets.stream import stream

    options: dict[str, Any] = {
        k: v
        for k, v in vars(args).items()
        if k in ("system", "temperature", "max_tokens", "profile") and v is not None
    }
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
    """The growing answer as markdown, redrawn in place (rich's `Live`)."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=out)
        self.live = Live(console=self.console, refresh_per_second=8, vertical_overflow="visible")
        self.live.start()

    def __call__(self, text: str) -> None:
        from rich.markdown import Markdown

        self.live.update(Markdown(text))

    def close(self) -> None:
        self.live.stop()


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
    loop = asyncio.get_running_loop()
    try:
        import signal

        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError):  # Windows: KeyboardInterrupt as usual
        pass
    try:
        return await task
    except asyncio.CancelledError:
        return EXIT_STOPPED
