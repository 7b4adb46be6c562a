"""The front-end bundle, sent once per kernel instead of once per widget.

anywidget syncs `_esm` and `_css` with every instance: with a 500 KB view (markdown-it, KaTeX,
highlight.js) that would put half a megabyte on the wire and into the saved notebook for every
answer, every chat turn and every comparison pane. So each StreamWidget carries a tiny loader
(`static/loader.js`) and a reference to one shared `FrontendAssets` model holding the bundle.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

STATIC = Path(__file__).resolve().parent.parent / "static"
BUILD_HINT = (
    "The llmwidgets front end is not built. From a source checkout run: "
    "npm --prefix js ci && npm --prefix js run build"
)


def static_file(name: str) -> str:
    """A built file's text, or (for JS) a module that says how to build it.

    Text, not a Path: anywidget watches a Path for changes and hooks every instance onto the
    watcher, which keeps each widget (and its whole answer) alive for the kernel's lifetime.
    """
    path = STATIC / name
    if path.is_file():
        return path.read_text(encoding="utf-8")
    if name.endswith(".js"):
        return f"export default {{ render({{ el }}) {{ el.textContent = {BUILD_HINT!r}; }} }};"
    return ""


def esm_here(code: str) -> str:
    """`code` as a widget's `_esm` in this kernel: the text itself, or in marimo a `data:` URL.

    marimo turns an `_esm` text into a file owned by the cell that is running, and fails to open
    a widget made while none runs (a chat's answer, made when the person presses Enter: marimo
    0.25 raises in its virtual-file registry). A `data:` URL it passes through as it is. Jupyter's
    anywidget reads any `_esm` that is not an http(s) URL as code, so it keeps the text.
    """
    marimo = sys.modules.get("marimo")
    if marimo is None or not bool(marimo.running_in_notebook()):
        return code
    return "data:text/javascript;base64," + base64.b64encode(code.encode()).decode("ascii")


def _read(name: str) -> str:
    path = STATIC / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


class FrontendAssets(anywidget.AnyWidget):
    """Holds the view bundle; never displayed itself."""

    _esm = "export default {};"
    bundle = traitlets.Unicode("").tag(sync=True)
    css = traitlets.Unicode("").tag(sync=True)
    version = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        # Re-made by whichever widget needs it first, maybe while no marimo cell runs.
        self._esm = esm_here(type(self)._esm)
        super().__init__(**kwargs)


# The kernel's one assets model, re-made once it cannot reach the page: closed by
# Widget.close_all() (ipywidgets sets `comm` to None), or by marimo, which closes every comm with
# the cell that opened it when that cell re-runs or is deleted, leaving the widget's `comm` set
# but marked `_closed`; or never sent, when marimo opened it in a thread of no notebook session.
_shared: FrontendAssets | None = None


def _is_open(widget: anywidget.AnyWidget) -> bool:
    """Whether views can still fetch this model from the page."""
    comm = widget.comm
    if comm is None or getattr(comm, "_closed", False):
        return False
    # marimo binds a comm to the session of the thread that opens it. One opened in a plain
    # thread has none (`_stream` is None): its model never reached the page, and views that
    # referenced it would wait for it forever.
    return getattr(comm, "kernel", None) != "marimo" or getattr(comm, "_stream", None) is not None


def shared_assets() -> FrontendAssets:
    global _shared
    if _shared is None or not _is_open(_shared):
        bundle, css = _read("stream.js"), _read("stream.css")
        if not bundle:
            bundle = (
                f"export default {{ render({{ el }}) {{ el.textContent = {BUILD_HINT!r}; }} }};"
            )
        version = hashlib.sha256((bundle + css).encode()).hexdigest()[:16]
        _shared = FrontendAssets(bundle=bundle, css=css, version=version)
    return _shared


class BundleView(anywidget.AnyWidget):
    """A widget drawn by the shared bundle: the chat and the comparison.

    Like StreamWidget it carries only the loader and a reference to the assets model; `_llmw_view`
    tells the loader which of the bundle's views draws it (js/src/containers.js). Being one
    anywidget each, rather than an ipywidgets container, they show wherever anywidgets do,
    marimo included, and draw their child streams with the stream's own view.
    """

    _esm = static_file("loader.js")
    _assets = traitlets.Instance(FrontendAssets).tag(sync=True, **widgets.widget_serialization)
    _llmw_view = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        self._esm = esm_here(type(self)._esm)
        super().__init__(_assets=shared_assets(), **kwargs)
