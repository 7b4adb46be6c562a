"""The thinking panel in a real JupyterLab and Chromium: open and streaming while the model
thinks, collapsed with a summary once the answer starts, expandable from the keyboard, readable in
the dark theme.

The kernel runs the real OpenAI SDK against the loopback wire server's `thinking-slow` scenario:
twenty thinking deltas (`reasoning_content`), then the answer, one event every 0.15 s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .lab import DARK_THEME, LabPage, luminance

pytestmark = pytest.mark.browser

ROOT = ".llmw-stream"
PANEL = ".llmw-stream details.llmw-thinking"


def thinking_cell(wire: Any) -> str:
    return (
        "from llmwidgets import StreamWidget\n"
        "w = StreamWidget('openai:thinking-slow?delay=0.15', 'hi', "
        f"base_url={wire.openai_base_url!r})\n"
        "w"
    )


def panel_state(page: LabPage) -> dict[str, Any]:
    return dict(
        page.page.evaluate(
            """(sel) => {
              const d = document.querySelector(sel);
              return {
                open: d.open,
                hidden: d.hidden,
                summary: d.querySelector('summary').textContent,
                thinking: d.querySelector('.llmw-thinking-body').textContent,
                answer: d.closest('.llmw-stream').querySelector('.llmw-body').textContent.trim(),
              };
            }""",
            PANEL,
        )
    )


def test_the_thinking_panel_streams_open_then_collapses_when_the_answer_starts(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([thinking_cell(wire_server)])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    page.page.locator(f"{PANEL}[open]").wait_for(timeout=30_000)

    # While the model thinks: open, streaming, and no answer yet.
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel + ' .llmw-thinking-body').textContent"
        ".includes('Step 3:')",
        arg=PANEL,
        timeout=20_000,
    )
    thinking = panel_state(page)
    assert thinking["open"] and not thinking["hidden"]
    assert thinking["summary"].startswith("thinking…")
    assert thinking["answer"] == ""
    page.screenshot("thinking-open-while-thinking", page.output(0))

    # The answer starts: the panel closes and sums up the thinking.
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel).querySelector('.llmw-body').textContent.trim()",
        arg=ROOT,
        timeout=20_000,
    )
    page.page.wait_for_function(
        "(sel) => !document.querySelector(sel).open", arg=PANEL, timeout=5_000
    )
    answering = panel_state(page)
    assert answering["summary"].startswith("Thought for ")
    assert answering["summary"].endswith("tokens")
    assert "Step 20:" in answering["thinking"]
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel).dataset.status === 'done'",
        arg=ROOT,
        timeout=30_000,
    )
    assert not panel_state(page)["open"]


def test_the_collapsed_panel_opens_from_the_keyboard_in_the_dark_theme(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([thinking_cell(wire_server).replace("delay=0.15", "delay=0.005")])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.status === 'done'",
        arg=ROOT,
        timeout=30_000,
    )
    page.set_theme(DARK_THEME)
    summary = page.page.locator(f"{PANEL} > summary")
    assert not panel_state(page)["open"]
    page.screenshot("thinking-collapsed-dark", page.output(0))
    summary.focus()
    page.page.keyboard.press("Enter")
    page.page.wait_for_function("(sel) => document.querySelector(sel).open", arg=PANEL)
    color, background = page.page.evaluate(
        """(sel) => {
          const body = document.querySelector(sel + ' .llmw-thinking-body');
          let el = body, bg = 'rgba(0, 0, 0, 0)';
          while (el && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
            bg = getComputedStyle(el).backgroundColor;
            el = el.parentElement;
          }
          return [getComputedStyle(body).color, bg];
        }""",
        PANEL,
    )
    page.screenshot("thinking-expanded-dark", page.output(0))
    assert luminance(color) > 0.4
    assert luminance(background) < 0.2
