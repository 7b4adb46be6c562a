"""Ctrl-C and the notebook's Interrupt: both stop an answer and keep what arrived.

Where llmwidgets owns the terminal (terminal IPython, `python -m llmwidgets`) the event loop runs
only while something waits on it, and a KeyboardInterrupt raised by Python's default handler lands
wherever the main thread happens to be: usually inside the loop's `select()`, which leaves the
answer's task pending and still "streaming" at the next await. A loop signal handler instead
turns Ctrl-C into a call on the loop (a Stop), between two steps of code (`ctrl_c_calls`).

In a Jupyter kernel the kernel owns SIGINT. An answer streams as a task after its cell has
returned, and ipykernel ignores SIGINT while it waits for the next request
(`IPKernelApp.init_signal`), so Interrupt (the ■ button, or I, I) reached nothing. Around each
request it handles, the kernel installs Python's `default_int_handler` and then puts back the
handler it found, kept meanwhile in `kernel.saved_sigint_handler` (`Kernel.pre_handler_hook` /
`post_handler_hook`). While answers stream, the handler it puts back is `InterruptStops`', which
stops them; during a cell the kernel's own handler is in place, so Interrupt interrupts that
cell, as always. When the last answer ends, the kernel's handler comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, Protocol

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


Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

#: Where a kernel's `InterruptStops` lives: on the kernel object itself, one per kernel.
_ATTRIBUTE = "_llmwidgets_interrupt"


class Stoppable(Protocol):
    def stop(self) -> None: ...


class InterruptStops:
    """The answers streaming in one kernel, and the SIGINT handler that stops them."""

    def __init__(self, kernel: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._kernel = kernel
        self._loop = loop
        self._runs: set[Stoppable] = set()
        self._previous: Handler = signal.SIG_IGN

    def watch(self, run: Stoppable) -> None:
        if not self._runs:
            self._install()
        self._runs.add(run)

    def forget(self, run: Stoppable) -> None:
        if run in self._runs:
            self._runs.discard(run)
            if not self._runs:
                self._uninstall()

    def _on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        # A signal handler runs between two bytecodes of the main thread: the loop does the work.
        # Whatever code it interrupts must not see an error of ours (a loop closed at shutdown).
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._stop_all)

    def _stop_all(self) -> None:
        for run in list(self._runs):
            run.stop()

    def _install(self) -> None:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # between requests: ours now
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        else:  # inside a request (a cell, a click): ours once the kernel puts its handler back
            self._previous = self._kernel.saved_sigint_handler
            self._kernel.saved_sigint_handler = self._on_sigint

    def _uninstall(self) -> None:
        if signal.getsignal(signal.SIGINT) == self._on_sigint:
            signal.signal(signal.SIGINT, self._previous)
        if self._kernel.saved_sigint_handler == self._on_sigint:
            self._kernel.saved_sigint_handler = self._previous


def interrupt_stops(loop: asyncio.AbstractEventLoop) -> InterruptStops | None:
    """This kernel's `InterruptStops`, made on first use; None outside an ipykernel kernel's main
    thread (terminal IPython, a script, marimo, a worker thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    from IPython import get_ipython

    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None or not hasattr(kernel, "saved_sigint_handler"):
        return None
    stops = kernel.__dict__.get(_ATTRIBUTE)
    if not isinstance(stops, InterruptStops):
        stops = kernel.__dict__[_ATTRIBUTE] = InterruptStops(kernel, loop)
    return stops
