"""The harness itself, proven with plain ipywidgets and an inline anywidget (no llmwidgets code).

These pin down facts the StreamWidget relies on: the kernel runs this venv's Python, widgets
render in Lab, clicks reach the kernel, and a background asyncio task started in a cell keeps
running (and stays cancellable from a click) after the cell returns.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from .lab import DARK_THEME, LabPage, luminance

pytestmark = pytest.mark.browser

BUTTON_AND_ANYWIDGET = '''
import anywidget, ipywidgets, traitlets

class Hello(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const span = document.createElement("span");
        span.className = "hello-anywidget";
        span.textContent = "hello " + model.get("name");
        el.appendChild(span);
      }
    };
    """
    name = traitlets.Unicode("anywidget").tag(sync=True)

label = ipywidgets.Label("not clicked")
button = ipywidgets.Button(description="Click me")
button.add_class("harness-button")
label.add_class("harness-label")

def on_click(_):
    label.value = "clicked by kernel"

button.on_click(on_click)
ipywidgets.VBox([button, label, Hello()])
'''

BACKGROUND_TASK = """
import asyncio, ipywidgets

loop = asyncio.get_running_loop()
ticks = ipywidgets.IntText(0)
ticks.add_class("harness-ticks")
state = ipywidgets.Label("running")
state.add_class("harness-state")
stop = ipywidgets.Button(description="Stop")
stop.add_class("harness-stop")

async def tick():
    try:
        while True:
            await asyncio.sleep(0.01)
            ticks.value += 1
    except asyncio.CancelledError:
        state.value = "cancelled"
        raise

task = asyncio.ensure_future(tick())
stop.on_click(lambda _: task.cancel())
ipywidgets.VBox([ticks, state, stop])
"""


def ticks(page: LabPage) -> int:
    """The background task's counter, as the browser shows it."""
    return int(page.output(0).locator(".harness-ticks input").input_value())


def test_kernel_runs_the_venv_python(notebook: Callable[..., LabPage]) -> None:
    page = notebook(["import sys, llmwidgets; print(sys.executable)"])
    page.run_cell(0)
    page.wait_output(0, f"pre:has-text('{sys.executable}')")


def test_button_and_inline_anywidget_render_and_click_reaches_kernel(
    notebook: Callable[..., LabPage],
) -> None:
    page = notebook([BUTTON_AND_ANYWIDGET])
    page.run_cell(0)
    hello = page.wait_output(0, ".hello-anywidget")
    assert hello.inner_text() == "hello anywidget"
    label = page.wait_output(0, ".harness-label")
    assert label.inner_text() == "not clicked"
    page.output(0).locator(".harness-button").click()
    page.output(0).locator(".harness-label:has-text('clicked by kernel')").wait_for()
    page.screenshot("harness-button-anywidget")


def test_background_task_outlives_its_cell_and_a_click_cancels_it(
    notebook: Callable[..., LabPage],
) -> None:
    page = notebook([BACKGROUND_TASK, "print('next cell ran')"])
    page.run_all()
    page.wait_output(1, "pre:has-text('next cell ran')")
    page.page.wait_for_function(
        "() => Number(document.querySelector('.harness-ticks input').value) > 20"
    )
    page.output(0).locator(".harness-stop").click()
    page.output(0).locator(".harness-state:has-text('cancelled')").wait_for()
    stopped_at = ticks(page)
    page.page.wait_for_timeout(300)
    assert ticks(page) == stopped_at
    page.screenshot("harness-background-task")


def test_dark_theme_switch_makes_the_notebook_dark(notebook: Callable[..., LabPage]) -> None:
    page = notebook(["print('dark')"])
    page.run_cell(0)
    page.wait_output(0, "pre:has-text('dark')")
    page.set_theme(DARK_THEME)
    colors = page.page.evaluate(
        """() => {
          const out = document.querySelector('.jp-OutputArea-output pre');
          const nb = document.querySelector('.jp-Notebook');
          return [getComputedStyle(out).color, getComputedStyle(nb).backgroundColor];
        }"""
    )
    page.screenshot("harness-dark-theme")
    text, background = colors
    assert luminance(text) > 0.6 > 0.2 > luminance(background)
