"""Widget or plain text: does a front end render widgets for this cell?

A kernel counts as headless when its execute requests carry no `cellId` metadata (JupyterLab,
Notebook 7 and VS Code send one; nbclient, nbconvert, papermill and consoles do not) and no
ipywidgets manager has opened its control comm. Without a kernel (terminal IPython) it is
always plain text. `LLMWIDGETS_HEADLESS=1` forces plain text, `=0` forces the widget.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Literal

HEADLESS_ENV = "LLMWIDGETS_HEADLESS"

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
