"""Ctrl-C where llmwidgets owns the terminal: terminal IPython and `python -m llmwidgets`.

There the event loop runs only while something waits on it, and a KeyboardInterrupt raised by
Python's default handler lands wherever the main thread happens to be: usually inside the loop's
`select()`, which leaves the answer's task pending and still "streaming" at the next await. A
loop signal handler instead turns Ctrl-C into a call on the loop (a Stop), between two steps of
code. In a Jupyter kernel the kernel owns SIGINT (its interrupt), so nothing here is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator

#: The KeyboardInterrupt's message when Ctrl-C or an interrupt stops an answer.
STOPPED = "Interrupted: the stream was stopped; the partial answer is kept."


def in_terminal_ipython() -> bool:
    """True in terminal IPython (not a kernel): Ctrl-C reaches this process directly."""
    module = sys.modules.get("IPython.terminal.interactiveshell")
    if module is None:  # a kernel may import it too, so its presence alone says nothing
        return False
    from IPython import get_ipython

    return isinstance(get_ipython(), module.TerminalInteractiveShell)


@contextlib.contextmanager
def ctrl_c_calls(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> Iterator[None]:
    """SIGINT calls `callback` on `loop` while the block runs; the previous handler comes back.

    Where a handler cannot be set (Windows, a thread other than the main one) Ctrl-C raises
    KeyboardInterrupt as usual.
    """
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)
