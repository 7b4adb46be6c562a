"""`compare()`: one prompt, several models (or settings) streaming side by side.

Composed of `StreamWidget`s rather than a new front end: each pane gets incremental markdown, its
own counter and its own Stop for free, and each runs its own task on the kernel loop, so a slow or
failing provider never holds up the others and an error stays inside its pane. When every pane has
ended, a summary table (HTML built here, values escaped, never model output) appears under the grid.
The grid is one anywidget (no ipywidgets container, which marimo refuses) whose view
(js/src/containers.js, in the shared bundle) draws each pane's model with the stream's own view.

    w = compare(["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5"], "Explain RAII")
    w                                  # shows the grid; answers stream after the cell returns
    responses = await w                # in a later cell: every pane has ended
    w.table()                          # per-model timings, tokens, cost, shown as a table
    w.table().to_pandas()              # the same as a DataFrame (needs pandas)
"""

from __future__ import annotations

import asyncio
import html
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets
import traitlets

from llmwidgets._chunks import Prompt, Response
from llmwidgets._config import Config
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._streamer import DEFAULT_FLUSH_INTERVAL, ENDED, running_loop
from llmwidgets._widgets import protocol
from llmwidgets._widgets.assets import BundleView
from llmwidgets._widgets.saved_copy import SavedCopy
from llmwidgets._widgets.stream import StreamWidget
from llmwidgets._widgets.summary import (
    SummaryRow,
    SummaryTable,
    differing_fields,
    mark_best,
    summary_html,
    summary_markdown,
)

__all__ = ["GRID_COLUMNS", "CompareWidget", "Pane", "SummaryRow", "SummaryTable", "compare"]

GRID_COLUMNS = "repeat(auto-fit, minmax(min(320px, 100%), 1fr))"


@dataclass(init=False)
class Pane:
    """One column of a comparison: a model plus options that override the shared ones.

        compare([Pane("chatbot", temperature=0), Pane("chatbot", temperature=1)], "A haiku")
        compare([Pane("chatbot", "terse", system="Be terse."), Pane("chatbot", "kind",
                 system="Be kind.")], "Review my code")

    `prompt=` is accepted as an option too, to compare prompts on one model.
    """

    # Fields for the dataclass's repr and equality; the constructor is our own (options as
    # keywords), so the fields carry no defaults of their own.
    model: str
    label: str | None
    options: dict[str, Any]

    def __init__(self, model: str, label: str | None = None, **options: Any) -> None:
        self.model = model
        self.label = label
        self.options = options

    @classmethod
    def of(cls, spec: str | Pane | Mapping[str, Any]) -> Pane:
        """A pane from what `compare()` accepts: an alias, a Pane, or a dict with `model`."""
        if isinstance(spec, Pane):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        if isinstance(spec, Mapping):
            data = dict(spec)
            if "model" not in data:
                raise ValueError(f"A pane dict needs a 'model' key, got {sorted(data)}")
            return cls(data.pop("model"), data.pop("label", None), **data)
        raise TypeError(f"A pane is an alias string, a Pane or a dict, not {type(spec).__name__}")


class CompareWidget(SavedCopy, BundleView):
    """Several `StreamWidget`s in a wrapping grid, a "Stop all" button and an end-of-run summary.

    `results` holds each pane's `Response` once it has ended: a stopped pane's partial answer has
    `finish_reason == "cancelled"`, a failed one's `"error"` (its text is what arrived before the
    failure); it is None for a pane that never started (e.g. an unknown alias) or is still
    streaming. `await w` waits for every pane and never raises for a failed pane: the failure is
    shown in the pane, in `errors` and in the table.

    "Fastest" is the highest generation speed (output tokens per second after the first token)
    among panes that finished normally; "cheapest" the lowest known cost among them. Each mark
    needs two or more such panes whose values differ (equal costs, as for two free models, mark
    none); a tie for the best is marked on each tied pane.
    """

    _llmw_view = traitlets.Unicode("compare").tag(sync=True)
    #: One StreamWidget per pane, in order (sent as references to their models).
    panes: traitlets.List[StreamWidget] = traitlets.List(traitlets.Instance(StreamWidget)).tag(
        sync=True, **ipywidgets.widget_serialization
    )
    #: Each pane's title, "" where none is needed (different models and no labels).
    titles = traitlets.List(traitlets.Unicode()).tag(sync=True)
    #: The grid's CSS `grid-template-columns`: as many columns as fit, wrapping on narrow pages;
    #: a column narrower than 320px only where the output itself is (never wider than it).
    columns = traitlets.Unicode(GRID_COLUMNS).tag(sync=True)
    #: The summary table (HTML built here, every value escaped), once every pane has ended.
    summary = traitlets.Unicode("").tag(sync=True)
    #: Every pane has ended: the view disables Stop all.
    ended = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        models: Iterable[str | Pane | Mapping[str, Any]],
        prompt: Prompt,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        config: str | os.PathLike[str] | Config | None = None,
        **options: Any,
    ) -> None:
        specs = [Pane.of(m) for m in models]
        if not specs:
            raise ValueError("compare() needs at least one model")
        self._loop = running_loop()
        self._all_done: asyncio.Future[None] = self._loop.create_future()
        self.specs: list[Pane] = specs
        self.labels: list[str] = _labels(specs)
        titled = any(s.label for s in specs) or len({s.model for s in specs}) < len(specs)

        panes: list[StreamWidget] = []
        for spec in specs:
            pane_options = {**options, **spec.options}
            pane_prompt = pane_options.pop("prompt", prompt)
            panes.append(
                StreamWidget(
                    spec.model,
                    pane_prompt,
                    flush_interval=flush_interval,
                    config=config,
                    **pane_options,
                )
            )
        super().__init__(panes=panes, titles=[label if titled else "" for label in self.labels])
        self.on_msg(self._on_view_message)

        for pane in self.panes:
            pane.on_end(self._on_pane_end)
        self._check_all_ended()  # panes that failed before sending anything end at once

    # -- Python API ------------------------------------------------------------------------
    def stop_all(self) -> None:
        """Stop every pane still streaming; partial answers stay."""
        for pane in self.panes:
            pane.stop()

    async def wait(self) -> list[Response | None]:
        """Wait until every pane has ended; returns `results` (never raises for a failed pane).

        Also lands the saved copy from here when it went out under another cell's header
        (nbclient and papermill drop messages of a cell that has finished).
        """
        await asyncio.shield(self._all_done)
        self.refresh_displays_from_here()
        return self.results

    def __await__(self) -> Generator[Any, None, list[Response | None]]:
        return self.wait().__await__()

    @property
    def done(self) -> bool:
        return all(p.status in ENDED for p in self.panes)

    @property
    def results(self) -> list[Response | None]:
        """Each pane's Response once it ended (partial for stopped or failed panes), else None."""
        return [p.response for p in self.panes]

    @property
    def errors(self) -> list[LLMWidgetsError | None]:
        """Each pane's error, or None where it did not fail."""
        return [_error_of(p) for p in self.panes]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.panes]

    def table(self) -> SummaryTable:
        """One dict per pane (see `SummaryRow`), shown as the summary table; `.to_pandas()`."""
        return SummaryTable(self.rows())

    def rows(self) -> list[SummaryRow]:
        return mark_best(
            [_row(label, pane) for label, pane in zip(self.labels, self.panes, strict=True)]
        )

    # -- display ---------------------------------------------------------------------------
    def saved_ready(self) -> bool:
        return self.done

    def markdown(self) -> str:
        """One `## label` section per pane with its answer, then the summary as a table."""
        parts = [
            f"## {label}\n\n{pane.markdown()}"
            for label, pane in zip(self.labels, self.panes, strict=True)
        ]
        parts.append("## Summary\n\n" + summary_markdown(self.rows()))
        differ = self.differing_fields()
        if differ is not None:
            parts.append("Fields that differ: " + (", ".join(differ) or "none"))
        return "\n\n".join(parts) + "\n"

    def plain_text(self) -> str:
        ended = sum(p.status in ENDED for p in self.panes)
        return f"<llmwidgets compare: {ended} of {len(self.panes)} ended>"

    # -- view and pane events ----------------------------------------------------------------
    def _on_view_message(self, _widget: Any, content: Any, _buffers: list[bytes]) -> None:
        if protocol.message_type(content) == protocol.STOP_ALL:
            self.stop_all()

    def _on_pane_end(self, _pane: StreamWidget) -> None:
        self._check_all_ended()

    def differing_fields(self) -> list[str] | None:
        """With `schema=`: the top-level fields whose values differ between the panes that
        answered with a valid object; None without a schema or with fewer than two objects."""
        return differing_fields([p.response.parsed for p in self.panes if p.response is not None])

    def _check_all_ended(self) -> None:
        if not self.done:
            return
        differ = self.differing_fields()
        note = ""
        if differ is not None:
            words = ", ".join(differ) if differ else "none: every model gave the same object"
            note = (
                '<div class="llmw-compare-differ" style="margin-top:6px;'
                'color:var(--jp-ui-font-color1);font-size:var(--jp-ui-font-size1)">'
                f"Fields that differ: {html.escape(words)}</div>"
            )
        with self.hold_sync():
            self.summary = summary_html(self.rows()) + note
            self.ended = True
        self.refresh_displays()
        if not self._all_done.done():
            self._all_done.set_result(None)


def compare(
    models: Sequence[str | Pane | Mapping[str, Any]],
    prompt: Prompt,
    *,
    flush_interval: float = DEFAULT_FLUSH_INTERVAL,
    config: str | os.PathLike[str] | Config | None = None,
    **options: Any,
) -> CompareWidget:
    """Stream `prompt` to every model at once, side by side; see `CompareWidget`.

    `models` are aliases / `provider:model` strings, `Pane`s or dicts (`{"model": ..., "label":
    ..., **options}`). Shared `**options` (system, temperature, max_tokens, base_url, ...) apply
    to every pane; a pane's own options override them.
    """
    return CompareWidget(models, prompt, flush_interval=flush_interval, config=config, **options)


# -- helpers -----------------------------------------------------------------------------------
def _labels(specs: list[Pane]) -> list[str]:
    """Each pane's title: its label, else its model, plus its own options when models repeat."""
    counts: dict[str, int] = {}
    for s in specs:
        counts[s.model] = counts.get(s.model, 0) + 1
    labels = []
    for s in specs:
        label = s.label or s.model
        if not s.label and counts[s.model] > 1 and s.options:
            label += " · " + ", ".join(f"{k}={_short(v)}" for k, v in s.options.items())
        labels.append(label)
    seen: dict[str, int] = {}
    unique = []
    for label in labels:  # identical panes still need distinct section titles
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return unique


def _short(value: Any, limit: int = 30) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_of(pane: StreamWidget) -> LLMWidgetsError | None:
    if pane.run is not None:
        return pane.run.error if pane.run.done else None
    return pane.startup_error  # a bad alias or config: the pane never started


def _row(label: str, pane: StreamWidget) -> SummaryRow:
    m = pane.metrics or {}
    r = pane.response
    error = f"{pane.error['title']}: {pane.error['message']}" if pane.error else None
    return SummaryRow(
        label=label,
        model=pane.model_label,
        status=pane.status,
        time_to_first_token=m.get("ttft"),
        tokens_per_second=m.get("tokens_per_second"),
        output_tokens=m.get("output_tokens") if pane.run is not None else None,
        total_time=r.total_time if r is not None else m.get("elapsed"),
        cost=m.get("cost"),
        finish_reason=r.finish_reason if r is not None else ("error" if error else None),
        error=error,
    )
