"""What a question sent besides its words, in a real JupyterLab and Chromium: a figure as a small
thumbnail and a DataFrame as a folded table above the answer, also after a reload.

The answer comes from the offline `replay:short` recording (it ignores the question), so the test
needs no key and no server; pandas, matplotlib and Pillow come with the test extra.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .lab import LabPage, both_frontends

pytestmark = pytest.mark.browser

SENT = ".llmw-stream .llmw-sent"

CELL = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from llmwidgets import StreamWidget
sales = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "units": [120, 135, 9]})
fig, ax = plt.subplots(figsize=(3, 2))
ax.bar(sales["month"], sales["units"])
w = StreamWidget("replay:short", ["Which month looks wrong?", sales, fig], delay=0)
w
"""


def sent_state(page: LabPage) -> dict[str, object]:
    return dict(
        page.page.evaluate(
            """(sel) => {
              const root = document.querySelector(sel);
              const img = root.querySelector('.llmw-sent-image img');
              const table = root.querySelector('details.llmw-sent-table');
              return {
                imageLoaded: !!img && img.complete && img.naturalWidth > 0,
                imageWidth: img ? img.getBoundingClientRect().width : 0,
                tableOpen: table ? table.open : null,
                tableText: table ? table.querySelector('pre').textContent : '',
              };
            }""",
            SENT,
        )
    )


@both_frontends
def test_a_figure_and_a_table_sent_show_above_the_answer(
    notebook: Callable[..., LabPage],
) -> None:
    page = notebook([CELL])
    page.run_cell(0)
    page.wait_output(0, SENT, timeout=60)
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel).closest('.llmw-stream').dataset.status === 'done'",
        arg=SENT,
        timeout=30_000,
    )
    state = sent_state(page)
    assert state["imageLoaded"] and 0 < float(state["imageWidth"]) <= 160  # type: ignore[arg-type]
    assert state["tableOpen"] is False and "Feb" in str(state["tableText"])
    page.screenshot("sent-preview", page.output(0))
    page.command("docmanager:save")
    page.reload()
    page.wait_output(0, SENT, timeout=60)
    assert sent_state(page)["imageLoaded"]
