"""The summary under a comparison: one row per pane, the best marked, as HTML, markdown, text or
a DataFrame, and which fields of structured answers differ. Values only: never model output."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any


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
