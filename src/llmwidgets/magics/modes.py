"""Widget or plain text: does a front end render widgets for this cell?

A kernel counts as headless when its execute requests carry no `cellId` metadata (JupyterLab,
Notebook 7 and VS Code send one; nbclient, nbconvert, papermill and consoles do not) and no
ipywidgets manager has opened its control comm. Without a kernel (terminal IPython) it is
always plain text. `LLMWIDGETS_HEADLESS=1` forces plain text, `=0` forces the widget.

Voilà is the exception to the `cellId` rule: it runs the cells itself (nbclient, no `cellId`)
and its page connects a widget manager only after the cells ran, yet the page renders every
widget they showed. Its kernels are recognised by the environment Voilà starts them with.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
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
    if _widget_manager_connected() or under_voila() or "google.colab" in sys.modules:
        return "widget"
    parent = kernel.get_parent("shell") if hasattr(kernel, "get_parent") else {}
    metadata = (parent or {}).get("metadata") or {}
    return "widget" if "cellId" in metadata else "text"


def under_voila(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Voilà started this kernel.

    Voilà 0.5 sets `VOILA_BASE_URL` in the environment of every kernel it starts: per request
    (`VoilaHandler.get` in voila/handler.py, standalone and as a Jupyter server extension) and
    for its pre-heated pool (`voila_kernel_manager.py`). A kernel started per request also gets
    the CGI-style `SERVER_SOFTWARE=voila/<version>`.
    """
    env = os.environ if environ is None else environ
    return "VOILA_BASE_URL" in env or env.get("SERVER_SOFTWARE", "").startswith("voila/")


def _widget_manager_connected() -> bool:
    """JupyterLab / Notebook 7 open ipywidgets' control comm when they connect to a kernel."""
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    widget = getattr(widget_module, "Widget", None)
    return getattr(widget, "_control_comm", None) is not None
