"""The widget path: show a `StreamWidget` (or a `compare()` grid for several models).

The cell returns at once and the answer streams afterwards; with `--wait` the rewritten cell
awaits the widget instead, so the kernel keeps handling Stop clicks while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from IPython.core.error import UsageError

from llmwidgets._magics.bind import Binder
from llmwidgets._magics.call import LLMCall


async def run_widget(call: LLMCall, binder: Binder, *, awaited: bool) -> None:
    """Show the widget; wait for its end only with `--wait` in a cell that awaits this."""
    widget = show_widget(call, binder)
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


def show_widget(call: LLMCall, binder: Binder) -> Any:
    """Display the widget, with `-o` bound when its answer (or every pane's) has ended."""
    from IPython.display import display

    kwargs = call.stream_kwargs()
    if len(call.models) == 1:
        from llmwidgets._widgets.stream import StreamWidget

        widget = StreamWidget(call.models[0], call.message_prompt, **kwargs)
        widget.on_end(lambda w: binder.bind_response(w.response, strict=False))
        display(widget)
        return widget
    try:
        from llmwidgets._widgets.compare import compare
    except ImportError:
        raise UsageError(
            "Comparing several models needs llmwidgets._widgets.compare, which is not available "
            "in this installation. Name one model."
        ) from None
    grid = compare(call.models, call.message_prompt, **kwargs)

    def on_pane_end(_pane: Any) -> None:
        if grid.done:
            binder.bind_each(zip(grid.labels, grid.results, strict=True))

    for pane in grid.panes:
        pane.on_end(on_pane_end)
    on_pane_end(None)  # every pane may have failed before starting
    display(grid)
    return grid


def _stop(widget: Any) -> None:
    if hasattr(widget, "stop_all"):
        widget.stop_all()
    else:
        widget.stop()
