"""The input transformer: `--wait` by top-level `await`, and a line magic's trailing `?`.

A `%%llm` cell, or a cell holding only `%llm` lines, is rewritten into `await run_magic(...)`:
IPython runs it as top-level await, the kernel keeps handling Stop clicks, and the interrupt
button cancels the await, which stops the stream, keeps the partial answer and raises
KeyboardInterrupt in the cell. It runs among IPython's cleanup transforms, before IPython's own
magic handling.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_AWAIT = (
    "await __import__('llmwidgets._magics')._magics.run_magic(get_ipython(), {line!r}, {cell!r})\n"
)


def transform_cell(lines: list[str]) -> list[str]:
    """Rewrite a `%%llm` cell, or a cell of only `%llm` lines, into top-level `await`s.

    Any other cell is returned untouched. `%%llm?` and `%llm ?` (help) are left to IPython.
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


def transformer(shell: Any) -> Callable[[list[str]], list[str]]:
    """The cleanup transform `register` installs (once: it is marked `llmwidgets`)."""

    def llm_await_transform(lines: list[str]) -> list[str]:
        if _can_await(shell):
            lines = transform_cell(lines)
        return keep_question_marks(lines)  # terminal IPython, or %llm mixed with other code

    llm_await_transform.llmwidgets = True  # type: ignore[attr-defined]
    return llm_await_transform
