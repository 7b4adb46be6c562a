"""Running one call: plain text or widget, and blocking, awaited or in the background.

A magic never blocks a kernel's loop (ipykernel handles no widget messages while a cell blocks,
and `nest_asyncio` does not work on ipykernel 7): a cell that waits is rewritten into a top-level
`await run_magic(...)` (see `wait`); without a running loop (terminal IPython) the call runs to
its end on IPython's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Coroutine
from typing import Any

from llmwidgets._interrupt import STOPPED, ctrl_c_calls
from llmwidgets._magics.bind import Binder
from llmwidgets._magics.call import LLMCall, parse_call
from llmwidgets._magics.modes import display_mode
from llmwidgets._magics.plain import run_plain
from llmwidgets._magics.widget import run_widget

#: Calls started in the background, referenced until they end (a loop keeps only weak ones).
_BACKGROUND: set[asyncio.Future[None]] = set()


async def run_call(shell: Any, call: LLMCall, *, awaited: bool) -> None:
    """Run one parsed call. `awaited`: the caller awaits this to the end (may block the cell)."""
    binder = Binder(shell, call)
    if display_mode(shell) == "text":
        await run_plain(call, binder, in_kernel=getattr(shell, "kernel", None) is not None)
    else:
        await run_widget(call, binder, awaited=awaited)


async def run_magic(shell: Any, line: str, cell: str | None) -> None:
    """What a rewritten `%%llm` cell awaits (see `wait.transform_cell`)."""
    await run_call(shell, parse_call(shell, line, cell), awaited=True)


def run_unawaited(shell: Any, line: str, cell: str | None) -> None:
    """The magic called as such, not rewritten into an `await`: block where no loop runs,
    else start the call in the background and return."""
    __tracebackhide__ = True
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


def run_blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run the call to its end where no loop is running (terminal IPython, plain scripts).

    Uses IPython's own persistent loop, so provider connection pools stay usable across calls.
    Ctrl-C cancels the call's task (a loop signal handler, so the interrupt never lands in the
    middle of its code): the stream stops, the partial answer is printed and bound, and a short
    KeyboardInterrupt reaches the prompt.
    """
    __tracebackhide__ = True  # IPython shows the cell, not the loop's frames
    from IPython.core.async_helpers import get_asyncio_loop

    loop = get_asyncio_loop()
    task = loop.create_task(coro)
    try:
        with ctrl_c_calls(loop, task.cancel):
            loop.run_until_complete(task)
    except asyncio.CancelledError:  # stopped before the answer could say so
        raise KeyboardInterrupt(STOPPED) from None
    except KeyboardInterrupt as exc:
        if not task.done():  # no signal handler here (Windows, a thread): stop it now
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
                loop.run_until_complete(task)
        raise KeyboardInterrupt(str(exc) or STOPPED) from None
