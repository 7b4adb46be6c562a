"""`compare()`: one prompt, several models (or settings) streaming side by side.

Composed of `StreamWidget`s rather than a new front end: each pane gets incremental markdown, its
own counter and its own Stop for free, and each runs its own task on the kernel loop, so a slow or
failing provider never holds up the others and an error stays inside its pane. When every pane has
ended, a summary table (HTML built here, values escaped, never model output) appears under the grid.

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
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any

import ipywidgets

from llmwidgets.chunks import Prompt, Response
from llmwidgets.config import Config
from llmwidgets.errors import LLMWidgetsError
from llmwidgets.streamer import DEFAULT_FLUSH_INTERVAL, ENDED, running_loop
from llmwidgets.widgets.saved_copy import SavedCopy
from llmwidgets.widgets.stream import StreamWidget

GRID_COLUMNS = "repeat(auto-fit, minmax(320px, 1fr))"


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


@dataclass
class SummaryRow:
    """One pane's line in the summary; `table()` holds these as dicts."""

    label: str
    model: str
    status: str
    time_to_first_token: float | None
    tokens_per_second: float | None
    output_tokens: int | None
    total_time: float | None
    cost: float | None
    finish_reason: str | None
    error: str | None
    fastest: bool = False
    cheapest: bool = False


class CompareWidget(SavedCopy, ipywidgets.VBox):
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

        self.panes: list[StreamWidget] = []
        cells: list[ipywidgets.Widget] = []
        for spec, label in zip(specs, self.labels, strict=True):
            pane_options = {**options, **spec.options}
            pane_prompt = pane_options.pop("prompt", prompt)
            pane = StreamWidget(
                spec.model,
                pane_prompt,
                flush_interval=flush_interval,
                config=config,
                **pane_options,
            )
            self.panes.append(pane)
            children: list[ipywidgets.Widget] = [pane]
            if titled:
                title = ipywidgets.HTML(
                    f'<div style="font-weight:600;font-size:var(--jp-ui-font-size1);'
                    f'color:var(--jp-ui-font-color1)">{html.escape(label)}</div>'
                )
                title.add_class("llmw-compare-title")
                children.insert(0, title)
            cell = ipywidgets.VBox(children, layout=ipywidgets.Layout(min_width="0"))
            cell.add_class("llmw-compare-cell")
            cells.append(cell)

        self.grid = ipywidgets.GridBox(
            cells,
            layout=ipywidgets.Layout(
                grid_template_columns=GRID_COLUMNS, grid_gap="12px", width="100%"
            ),
        )
        self.grid.add_class("llmw-compare-grid")
        self.stop_button = ipywidgets.Button(
            description="Stop all", icon="stop", tooltip="Stop every pane that is still streaming"
        )
        self.stop_button.add_class("llmw-compare-stop-all")
        self.stop_button.on_click(lambda _button: self.stop_all())
        self.summary = ipywidgets.HTML("")
        self.summary.add_class("llmw-compare-summary")
        super().__init__([self.grid, self.stop_button, self.summary])
        self.add_class("llmw-compare")

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

    # -- pane events -----------------------------------------------------------------------
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
        self.summary.value = summary_html(self.rows()) + note
        self.stop_button.disabled = True
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


def mark_best(rows: list[SummaryRow]) -> list[SummaryRow]:
    """Mark the fastest and the cheapest of `rows` (see `CompareWidget`); returns `rows`."""
    _mark(rows, "tokens_per_second", "fastest", best=max)
    _mark(rows, "cost", "cheapest", best=min)
    return rows


def _mark(rows: list[SummaryRow], value: str, flag: str, best: Any) -> None:
    candidates = [r for r in rows if r.status == "done" and getattr(r, value) is not None]
    if len({getattr(r, value) for r in candidates}) < 2:
        return  # one pane, or all equal: nothing stands out
    top = best(getattr(r, value) for r in candidates)
    for r in candidates:
        if getattr(r, value) == top:
            setattr(r, flag, True)


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _cost(value: float | None) -> str:
    if value is None:
        return "—"
    return "free" if value == 0 else f"${value:.6f}".rstrip("0").rstrip(".")


def _cells(row: SummaryRow) -> list[str]:
    marks = [m for m, on in (("fastest", row.fastest), ("cheapest", row.cheapest)) if on]
    return [
        row.label,
        row.status,
        _fmt(row.time_to_first_token, " s"),
        _fmt(row.tokens_per_second, "", 1),
        _fmt(row.output_tokens),
        _fmt(row.total_time, " s"),
        _cost(row.cost),
        row.finish_reason or "—",
        ", ".join(marks),
    ]


HEADERS = [
    "Model",
    "Status",
    "First token",
    "Tokens/s",
    "Output tokens",
    "Total",
    "Cost",
    "Finish",
    "",
]


def summary_text(rows: list[SummaryRow]) -> str:
    """The summary as plain text in aligned columns (for a terminal), errors listed under it."""
    table = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table
    ]
    out += [f"{r.label}: {r.error}" for r in rows if r.error]
    return "\n".join(out)


def summary_markdown(rows: list[SummaryRow]) -> str:
    """The summary as a GitHub markdown table (pipes escaped), errors listed under it."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    out = [line(HEADERS), "|" + "---|" * len(HEADERS)]
    out += [line(_cells(r)) for r in rows]
    out += [f"\n**{r.label}:** {r.error}" for r in rows if r.error]
    return "\n".join(out)


_TD = "padding:2px 10px;border-bottom:1px solid var(--jp-border-color2);text-align:left"
_BADGE = (
    "display:inline-block;padding:0 6px;margin-right:4px;border-radius:8px;"
    "font-size:var(--jp-ui-font-size0);color:var(--jp-ui-inverse-font-color1);background:{}"
)


def summary_html(rows: list[SummaryRow]) -> str:
    """The summary as an HTML table themed with `--jp-*` variables; every value is escaped."""
    head = "".join(f'<th style="{_TD}">{html.escape(h)}</th>' for h in HEADERS)
    body = []
    for row in rows:
        cells = _cells(row)[:-1]
        tds = "".join(f'<td style="{_TD}">{html.escape(c)}</td>' for c in cells)
        badges = ""
        if row.fastest:
            badges += f'<span class="llmw-mark-fastest" style="{_BADGE.format("var(--jp-success-color1)")}">fastest</span>'
        if row.cheapest:
            badges += f'<span class="llmw-mark-cheapest" style="{_BADGE.format("var(--jp-brand-color1)")}">cheapest</span>'
        title = f' title="{html.escape(row.error, quote=True)}"' if row.error else ""
        body.append(f'<tr{title}>{tds}<td style="{_TD}">{badges}</td></tr>')
    return (
        '<table class="llmw-compare-table" style="border-collapse:collapse;'
        "margin-top:8px;font-family:var(--jp-ui-font-family);font-size:var(--jp-ui-font-size1);"
        'color:var(--jp-ui-font-color1);background:transparent">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def differing_fields(values: list[Any]) -> list[str] | None:
    """Top-level fields whose values are not the same in every object (None: under two)."""
    objects = [o for o in (_as_dict(v) for v in values) if o is not None]
    if len(objects) < 2:
        return None
    keys = list(dict.fromkeys(k for o in objects for k in o))
    return [
        k for k in keys if any(o.get(k, _MISSING) != objects[0].get(k, _MISSING) for o in objects)
    ]


_MISSING = object()


def _as_dict(value: Any) -> dict[str, Any] | None:
    if hasattr(value, "model_dump"):
        dumped = value.model_dump()
        return dumped if isinstance(dumped, dict) else None
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value if isinstance(value, dict) else None


class SummaryTable(list[dict[str, Any]]):
    """What `CompareWidget.table()` returns: one dict per pane (the fields of `SummaryRow`, at
    full precision), shown as the summary table with values rounded as the widget shows them.

        w.table()                  # an HTML table in a notebook, aligned text in a terminal
        w.table()[0]["cost"]       # still a list of dicts: pandas.DataFrame(w.table()) works
        w.table().to_pandas()      # the same as pandas.DataFrame(w.table()); needs pandas
    """

    def __init__(self, rows: Iterable[SummaryRow | Mapping[str, Any]] = ()) -> None:
        super().__init__(asdict(r) if isinstance(r, SummaryRow) else dict(r) for r in rows)

    def summary_rows(self) -> list[SummaryRow]:
        """The rows as `SummaryRow`s (read from the dicts, so edits to them show)."""
        names = [f.name for f in fields(SummaryRow)]
        return [SummaryRow(**{k: row[k] for k in names if k in row}) for row in self]

    def to_pandas(self) -> Any:
        """A `pandas.DataFrame` with one row per pane and one column per `SummaryRow` field."""
        try:
            import pandas
        except ImportError as exc:
            raise ImportError(
                "SummaryTable.to_pandas() needs pandas, which is not installed: "
                "pip install pandas (or use the rows as dicts: list(w.table()))"
            ) from exc
        return pandas.DataFrame(list(self), columns=[f.name for f in fields(SummaryRow)])

    def __repr__(self) -> str:
        return summary_text(self.summary_rows())

    def _repr_html_(self) -> str:
        return summary_html(self.summary_rows())

    def _repr_markdown_(self) -> str:
        return summary_markdown(self.summary_rows())
