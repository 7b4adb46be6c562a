"""Widget or plain text: does a front end render widgets for this cell?

The choice follows what the kernel can see, never one field alone. A widget is chosen when any
of these facts says a front end will render it, plain text otherwise:

- **The execute request carries `metadata.cellId`.** Notebook UIs send it with every cell a
  person runs: JupyterLab and Notebook 7 (the cell's id), and VS Code (the cell document's URI,
  `vscode-notebook-cell:...`; microsoft/vscode-jupyter `src/kernels/execution/cellExecution.ts`
  sends `{cellId: cell.document.uri.toString(), ...the cell's metadata}` for notebook and
  Interactive Window cells alike). Requests whose outputs no cell shows carry none: nbclient,
  nbconvert, papermill, `jupyter console`, and VS Code's own (`executeSilently` for its
  variable view and `executeSilentlyAndEmitOutput` for other extensions, in
  `src/kernels/helpers.ts`).
- **A widget manager opened ipywidgets' control comm** (`jupyter.widget.control`). JupyterLab's
  and Notebook 7's managers open it when they connect (ipywidgets' `_loadFromKernel`), also for
  a JupyterLab console, which sends no `cellId`. The kernel accepts it only once ipywidgets is
  imported (the target is registered on import), so in a fresh kernel it is usually missing and
  the `cellId` decides. VS Code's manager never opens it: it restores widgets from the saved
  notebook only (`restoreWidgets` in microsoft/vscode-jupyter-ipywidgets `src/manager.ts`).
- **The kernel's environment names a host that renders widgets.** Voilà runs the cells itself
  (nbclient, no `cellId`) and connects its page's manager only after they ran, yet shows every
  widget they displayed (see `under_voila`); Colab imports `google.colab` into its kernels.
  VS Code is not recognised this way, on purpose: its cells always carry a `cellId`, and its
  requests without one are the ones whose outputs show no widget.

Without a kernel (terminal IPython) it is always plain text. `LLMWIDGETS_HEADLESS=1` forces plain
text, `=0` the widget. `explain_mode(get_ipython())` says which fact decided.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

HEADLESS_ENV = "LLMWIDGETS_HEADLESS"
#: The URI scheme of a VS Code notebook cell, which VS Code sends as the cell's `cellId`.
VSCODE_CELL_SCHEME = "vscode-notebook-cell:"

Mode = Literal["widget", "text"]


@dataclass(frozen=True)
class FrontEnd:
    """What the kernel can see of the front end that sent the running cell."""

    kernel: bool  # a Jupyter kernel runs this shell (not terminal IPython)
    forced: Mode | None  # LLMWIDGETS_HEADLESS
    cell_id: str | None  # the execute request's metadata.cellId
    widget_manager: bool  # ipywidgets' control comm is open
    host: str | None  # a host that renders widgets, known by its environment: Voilà, Colab

    def choice(self) -> tuple[Mode, str]:
        """The mode, and the fact that decided it."""
        if self.forced == "text":
            return "text", f"{HEADLESS_ENV}=1"
        if not self.kernel:
            return "text", "no kernel: terminal IPython or a plain shell"
        if self.forced == "widget":
            return "widget", f"{HEADLESS_ENV}=0"
        if self.cell_id is not None:
            where = " (VS Code)" if self.cell_id.startswith(VSCODE_CELL_SCHEME) else ""
            return "widget", f"the request comes from a notebook cell{where}"
        if self.widget_manager:
            return "widget", "a widget manager opened ipywidgets' control comm"
        if self.host is not None:
            return "widget", f"{self.host} renders the widgets its cells show"
        return "text", "no notebook cell, widget manager or widget host: a headless run"


def front_end(shell: Any) -> FrontEnd:
    """Gather the facts for the cell running in `shell` now."""
    kernel = getattr(shell, "kernel", None)
    return FrontEnd(
        kernel=kernel is not None,
        forced=forced_mode(),
        cell_id=_cell_id(kernel),
        widget_manager=_widget_manager_connected(),
        host=_widget_host(),
    )


def display_mode(shell: Any) -> Mode:
    """`widget` where a front end renders widgets, else `text` (see the module doc)."""
    return front_end(shell).choice()[0]


def explain_mode(shell: Any) -> str:
    """'widget: the request comes from a notebook cell (VS Code)': the mode and why."""
    mode, reason = front_end(shell).choice()
    return f"{mode}: {reason}"


def forced_mode() -> Mode | None:
    forced = os.environ.get(HEADLESS_ENV, "").strip().lower()
    if forced in ("1", "true", "yes"):
        return "text"
    if forced in ("0", "false", "no"):
        return "widget"
    return None


def under_voila(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Voilà started this kernel.

    Voilà 0.5 sets `VOILA_BASE_URL` in the environment of every kernel it starts: per request
    (`VoilaHandler.get` in voila/handler.py, standalone and as a Jupyter server extension) and
    for its pre-heated pool (`voila_kernel_manager.py`). A kernel started per request also gets
    the CGI-style `SERVER_SOFTWARE=voila/<version>`.
    """
    env = os.environ if environ is None else environ
    return "VOILA_BASE_URL" in env or env.get("SERVER_SOFTWARE", "").startswith("voila/")


def _widget_host() -> str | None:
    if under_voila():
        return "Voilà"
    if "google.colab" in sys.modules:
        return "Colab"
    return None


def _cell_id(kernel: Any) -> str | None:
    """The running request's `metadata.cellId` (ipykernel keeps the shell request's parent)."""
    if kernel is None or not hasattr(kernel, "get_parent"):
        return None
    metadata = (kernel.get_parent("shell") or {}).get("metadata") or {}
    cell_id = metadata.get("cellId")
    return None if cell_id is None else str(cell_id)


def _widget_manager_connected() -> bool:
    """Whether a widget manager opened ipywidgets' control comm (`Widget._control_comm`)."""
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    widget = getattr(widget_module, "Widget", None)
    return getattr(widget, "_control_comm", None) is not None
