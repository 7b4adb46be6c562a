"""`compare()` in a real JupyterLab and Chromium, streaming from the loopback wire server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .lab import LabPage, both_frontends, wait_until

pytestmark = pytest.mark.browser

GRID = ".llmw-compare-grid"
PANE = f"{GRID} .llmw-stream"
TABLE = ".llmw-compare-table"
TAIL = "".join(f"Sentence number {i} goes on a little. " for i in range(60))


def compare_cell(wire: Any, delays: list[float], extra: list[str] = ()) -> str:  # type: ignore[assignment]
    """A cell comparing one text model per delay (plus `extra` model names)."""
    name = uuid.uuid4().hex[:8]
    wire.add_text(name, TAIL)
    models = [f"openai:text:{name}?chunk=8&delay={d}" for d in delays] + list(extra)
    return (
        "from llmwidgets._widgets.compare import compare, Pane\n"
        f"w = compare([Pane(m, label=f'pane {{i}}') for i, m in enumerate({models!r})], 'hi',\n"
        f"            base_url={wire.openai_base_url!r})\n"
        "w"
    )


def pane_lengths(page: LabPage) -> list[int]:
    """Each pane's answer length as the DOM holds it."""
    return page.page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map("
        "el => (el.querySelector('.llmw-body')?.textContent || '').length)",
        PANE,
    )


def pane_statuses(page: LabPage) -> list[str]:
    return page.page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)].map(el => el.dataset.status)", PANE
    )


def test_all_panes_advance_together_and_the_summary_follows(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([compare_cell(wire_server, [0.03, 0.03, 0.03], ["openai:http-500"])])
    page.run_cell(0)
    page.wait_output(0, GRID)
    wait_until(lambda: len(pane_lengths(page)) == 4, 30, "four panes")
    samples: list[list[int]] = []

    def all_grew_together() -> bool:
        samples.append(pane_lengths(page)[:3])
        return len(samples) > 1 and all(b > a > 0 for a, b in zip(*samples[-2:], strict=True))

    wait_until(all_grew_together, 30, "all three panes to grow between two samples", 0.15)
    assert max(pane_lengths(page)[:3]) < len(TAIL)  # still streaming
    page.screenshot("compare-streaming", page.output(0))

    table = page.wait_output(0, TABLE, timeout=60)
    assert pane_statuses(page) == ["done", "done", "done", "error"]
    rows = table.locator("tbody tr")
    assert rows.count() == 4
    assert "Provider error" in (rows.nth(3).get_attribute("title") or "")
    assert page.output(0).locator(".llmw-compare-stop-all").is_disabled()
    page.screenshot("compare-summary", page.output(0))
    page.screenshot("compare-summary-table", page.output(0).locator(".llmw-compare-summary"))


def test_panes_sit_side_by_side_and_wrap_on_a_narrow_page(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([compare_cell(wire_server, [0, 0])])
    page.run_cell(0)
    page.wait_output(0, TABLE, timeout=60)
    wide = [page.page.locator(PANE).nth(i).bounding_box() for i in range(2)]
    assert wide[0] and wide[1]
    assert wide[0]["y"] == pytest.approx(wide[1]["y"], abs=2) and wide[1]["x"] > wide[0]["x"]
    page.page.set_viewport_size({"width": 560, "height": 900})
    wait_until(
        lambda: (
            (b := page.page.locator(PANE).nth(1).bounding_box())
            and b["y"] > (page.page.locator(PANE).nth(0).bounding_box() or {"y": 1e9})["y"] + 20
        ),
        10,
        "the second pane to wrap below the first",
    )
    # The output is now narrower than a column's 320px: the panes shrink to it, not cut off.
    grid = page.output(0).locator(GRID)
    wait_until(
        lambda: (
            (g := grid.bounding_box())
            and (b := page.page.locator(PANE).nth(0).bounding_box())
            and b["x"] + b["width"] <= g["x"] + g["width"] + 1
        ),
        10,
        "the first pane to fit the grid's width",
    )
    page.screenshot("compare-narrow", page.output(0))


@both_frontends
def test_stop_all_button_stops_every_pane(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([compare_cell(wire_server, [0.05, 0.05])])
    page.run_cell(0)
    page.wait_output(0, GRID)
    wait_until(lambda: all(n > 20 for n in pane_lengths(page)[:2]), 30, "text in both panes")
    page.output(0).locator(".llmw-compare-stop-all").click()
    wait_until(lambda: pane_statuses(page) == ["stopped", "stopped"], 20, "both panes stopped")
    wire_server.wait_for_disconnect(timeout=10, count=2)
    page.wait_output(0, TABLE)


def test_the_saved_notebook_holds_every_answer_as_html(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([compare_cell(wire_server, [0.01, 0])])
    page.run_cell(0)
    page.wait_output(0, TABLE, timeout=60)
    page.page.wait_for_timeout(300)  # let the display update land before saving
    page.command("docmanager:save")

    def saved_html() -> str:
        nb = page.lab.api("GET", f"/api/contents/{page.notebook_path}?content=1").json()
        outputs = nb["content"]["cells"][0]["outputs"]
        return "".join(o.get("data", {}).get("text/html", "") for o in outputs)

    page_html = wait_until(saved_html, 10, "a text/html saved copy in the saved notebook")
    assert page_html.count(TAIL.strip()[-30:]) == 2, json.dumps(page_html[:300])
    assert ">pane 0</h2>" in page_html and ">pane 1</h2>" in page_html
    assert "<th>Model</th>" in page_html
