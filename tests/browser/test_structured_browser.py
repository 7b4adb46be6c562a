"""Structured output in a real JupyterLab and Chromium: the object fills in while it streams,
Raw JSON shows the text, and the dark theme reads.

The kernel runs the real OpenAI SDK against the loopback wire server, which streams a JSON object
in small pieces.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from wire_server import Scenario, split_text

from .lab import DARK_THEME, LabPage, both_frontends

pytestmark = pytest.mark.browser

ROOT = ".llmw-stream"
TRIP = {
    "title": "Three unhurried days in Kansai",
    "stops": [
        {"city": "Kyoto", "days": 2},
        {"city": "Nara", "days": 1},
    ],
    "notes": "Go early to Fushimi Inari; the trains are simple; carry cash for small temples.",
}


def structured_cell(wire: Any, delay: float) -> str:
    model = wire.scenario(Scenario(text=split_text(json.dumps(TRIP), 3), delay=delay))
    return (
        "from pydantic import BaseModel\n"
        "from llmwidgets import StreamWidget\n"
        "class Stop(BaseModel):\n    city: str\n    days: int\n"
        "class Trip(BaseModel):\n    title: str\n    stops: list[Stop]\n    notes: str\n"
        f"w = StreamWidget('openai:{model}', 'Plan a trip', base_url={wire.openai_base_url!r}, "
        "schema=Trip)\n"
        "w"
    )


def shown_text(page: LabPage) -> str:
    return str(
        page.page.evaluate(
            "(sel) => document.querySelector(sel).querySelector('.llmw-structured-tree')"
            "?.innerText ?? ''",
            ROOT,
        )
    )


@both_frontends
def test_a_field_fills_in_while_the_object_streams(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([structured_cell(wire_server, delay=0.05)])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    page.page.wait_for_function(
        "(sel) => (document.querySelector(sel).querySelector('.llmw-structured-tree')"
        "?.innerText ?? '').includes('Three unhurr')",
        arg=ROOT,
        timeout=30_000,
    )
    early = shown_text(page)
    status = page.page.evaluate("(sel) => document.querySelector(sel).dataset.status", ROOT)
    assert status == "streaming", "the title showed only after the end"
    assert '"title":' not in early  # drawn as an object, not shown as JSON text
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.status === 'done'", arg=ROOT, timeout=30_000
    )
    final = shown_text(page)
    assert "Kyoto" in final and "Nara" in final and "carry cash" in final
    page.screenshot("structured-object", page.output(0))


def test_raw_json_shows_the_exact_text_in_the_dark_theme(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([structured_cell(wire_server, delay=0)])
    page.set_theme(DARK_THEME)
    page.run_cell(0)
    page.wait_output(0, ROOT)
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.status === 'done'", arg=ROOT, timeout=30_000
    )
    page.page.get_by_role("button", name="Raw JSON").first.click()
    raw = page.page.evaluate(
        "(sel) => document.querySelector(sel).querySelector('.llmw-structured-raw')?.textContent",
        ROOT,
    )
    assert json.loads(raw) == TRIP
    page.screenshot("structured-raw-dark", page.output(0))
