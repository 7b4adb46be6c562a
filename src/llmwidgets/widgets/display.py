"""Outputs that stay readable where widgets don't render.

A widget view is blank on GitHub, in nbconvert output, in VS Code's saved files and after a
reload without saved widget state. So every llmwidgets widget is shown under a display id, and
when its answer ends the output is updated to a bundle holding both the widget view and the
answer as `text/markdown` (plus a readable `text/plain`): frontends that render widgets keep
the widget, everything else shows the answer.
"""

from __future__ import annotations

import uuid
from typing import Any


class MarkdownFallback:
    """Mixin for widgets: `_ipython_display_` with a display id, and `refresh_displays()`.

    Subclasses say when the markdown is ready and what it is.
    """

    model_id: str

    def markdown(self) -> str:
        raise NotImplementedError

    def plain_text(self) -> str:
        raise NotImplementedError

    def markdown_ready(self) -> bool:
        raise NotImplementedError

    @property
    def _display_ids(self) -> list[str]:
        ids: list[str] | None = self.__dict__.get("_llmw_display_ids")
        if ids is None:
            ids = self.__dict__["_llmw_display_ids"] = []
        return ids

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display_id = uuid.uuid4().hex
        self._display_ids.append(display_id)
        display(self.mimebundle(), raw=True, display_id=display_id)

    def mimebundle(self) -> dict[str, Any]:
        """The output bundle: the widget view, plus the markdown copy once it is ready."""
        data: dict[str, Any] = {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 1,
                "model_id": self.model_id,
            },
            "text/plain": self.plain_text(),
        }
        if self.markdown_ready():
            data["text/markdown"] = self.markdown()
        return data

    def refresh_displays(self) -> None:
        """Update every output showing this widget to the current bundle.

        Called when an answer ends, and again from a cell that awaits the widget: headless
        runners (nbclient, papermill) drop updates that arrive after the showing cell finished.
        """
        if not self._display_ids:
            return
        from IPython.display import update_display

        bundle = self.mimebundle()
        for display_id in self._display_ids:
            update_display(bundle, raw=True, display_id=display_id)
