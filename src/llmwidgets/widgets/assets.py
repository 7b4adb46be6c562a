"""The front-end bundle, sent once per kernel instead of once per widget.

anywidget syncs `_esm` and `_css` with every instance: with a 500 KB view (markdown-it, KaTeX,
highlight.js) that would put half a megabyte on the wire and into the saved notebook for every
answer, every chat turn and every comparison pane. So each StreamWidget carries a tiny loader
(`static/loader.js`) and a reference to one shared `FrontendAssets` model holding the bundle.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import anywidget
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


def _read(name: str) -> str:
    path = STATIC / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


class FrontendAssets(anywidget.AnyWidget):
    """Holds the view bundle; never displayed itself."""

    _esm = "export default {};"
    bundle = traitlets.Unicode("").tag(sync=True)
    css = traitlets.Unicode("").tag(sync=True)
    version = traitlets.Unicode("").tag(sync=True)


# The kernel's one assets model, re-made once it is closed: by Widget.close_all() (ipywidgets
# sets `comm` to None), or by marimo, which closes every comm with the cell that opened it when
# that cell re-runs or is deleted, leaving the widget's `comm` set but marked `_closed`.
_shared: FrontendAssets | None = None


def _is_open(widget: anywidget.AnyWidget) -> bool:
    comm = widget.comm
    return comm is not None and not getattr(comm, "_closed", False)


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
