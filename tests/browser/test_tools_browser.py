"""Tool cards in a real JupyterLab and Chromium: drawn live where the model made the call, Allow
and Deny clicked by a person, re-attached after a reload mid-call, readable in the dark theme.

The kernel runs the real OpenAI SDK against the loopback wire server's `weather-loop` scenario:
"Let me check.", a `get_weather` call whose arguments stream in pieces, then (once the request
carries the result) an answer quoting it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .lab import DARK_THEME, LabPage, both_frontends

pytestmark = pytest.mark.browser

ROOT = ".llmw-stream"
CARD = ".llmw-stream .llmw-tool"


def tool_cell(wire: Any, *, sleep: float, approve: bool = False, delay: float = 0.1) -> str:
    return (
        "import time\n"
        "from llmwidgets import StreamWidget\n"
        "def get_weather(city: str) -> str:\n"
        "    '''Current weather for a city.'''\n"
        f"    time.sleep({sleep})\n"
        "    return f'18 degrees and sunny in {city}'\n"
        f"w = StreamWidget('openai:weather-loop?delay={delay}', 'Weather in Paris?', "
        f"base_url={wire.openai_base_url!r}, tools=[get_weather], approve={approve})\n"
        "w"
    )


def card_state(page: LabPage) -> dict[str, Any]:
    return dict(
        page.page.evaluate(
            """(sel) => {
              const card = document.querySelector(sel);
              const body = card.closest('.llmw-stream').querySelector('.llmw-body');
              const text = body.textContent;
              return {
                status: card.dataset.status,
                name: card.querySelector('.llmw-tool-name').textContent,
                args: card.querySelector('.llmw-tool-args').textContent,
                result: card.querySelector('.llmw-tool-result-text').textContent,
                before: text.indexOf('Let me check.'),
                at: text.indexOf(card.textContent),
                after: text.indexOf('The tools said'),
              };
            }""",
            CARD,
        )
    )


def wait_status(page: LabPage, status: str, timeout: float = 30_000) -> None:
    page.page.wait_for_function(
        "([sel, status]) => document.querySelector(sel)?.dataset.status === status",
        arg=[CARD, status],
        timeout=timeout,
    )


def wait_done(page: LabPage) -> None:
    page.page.wait_for_function(
        "(sel) => document.querySelector(sel)?.dataset.status === 'done'",
        arg=ROOT,
        timeout=30_000,
    )


def test_a_tool_card_streams_in_place_runs_and_the_answer_continues_below_it(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([tool_cell(wire_server, sleep=1.5)])
    page.run_cell(0)
    page.wait_output(0, CARD)
    wait_status(page, "running")
    running = card_state(page)
    assert running["name"] == "get_weather" and "Paris" in running["args"]
    page.screenshot("tool-card-running", page.output(0))
    wait_done(page)
    ended = card_state(page)
    assert ended["status"] == "done"
    assert ended["result"] == "18 degrees and sunny in Paris"
    assert 0 <= ended["before"] < ended["at"] < ended["after"]  # the card sits where it was made


@both_frontends
def test_allow_clicked_in_the_card_runs_the_tool(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([tool_cell(wire_server, sleep=0, approve=True, delay=0.01)])
    page.run_cell(0)
    page.wait_output(0, CARD)
    wait_status(page, "approval")
    page.page.get_by_role("button", name="Allow").first.click()
    wait_done(page)
    assert card_state(page)["result"] == "18 degrees and sunny in Paris"


def test_deny_clicked_in_the_dark_theme_tells_the_model_and_shows_denied(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([tool_cell(wire_server, sleep=0, approve=True, delay=0.01)])
    page.set_theme(DARK_THEME)
    page.run_cell(0)
    page.wait_output(0, CARD)
    wait_status(page, "approval")
    page.screenshot("tool-card-approval-dark", page.output(0))
    page.page.get_by_role("button", name="Deny").first.click()
    wait_done(page)
    ended = card_state(page)
    assert ended["status"] == "denied" and "declined" in ended["result"]
    page.screenshot("tool-card-denied-dark", page.output(0))


def test_a_reload_while_a_tool_runs_reattaches_the_card_and_it_finishes(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([tool_cell(wire_server, sleep=6.0, delay=0.02)])
    page.run_cell(0)
    page.wait_output(0, CARD)
    wait_status(page, "running")
    page.command("docmanager:save")  # the reloaded page gets the view from the saved outputs
    page.reload()
    page.wait_output(0, CARD, timeout=60)
    state = card_state(page)
    assert state["status"] in ("running", "done") and "Paris" in state["args"]
    wait_done(page)
    assert card_state(page)["result"] == "18 degrees and sunny in Paris"
