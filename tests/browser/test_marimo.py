"""StreamWidget in marimo: streams formatted, styled inside marimo's shadow root, and survives
its cell being re-run.

marimo draws each anywidget inside a shadow root, which the page's stylesheets do not reach,
and closes the comm of every model a cell made when that cell re-runs, including the shared
assets model (widgets/assets.py) that other widgets point at.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .lab import VENV_BIN, ServerProcess, free_port, start_server, watched_page

pytest.importorskip("marimo")

pytestmark = pytest.mark.browser

# The button's cell is an input of the widget's cell: clicking it re-runs that cell, the way
# a person re-runs it. The widget's cell is the one that made the shared assets model.
NOTEBOOK = textwrap.dedent(
    """
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        import marimo as mo

        from llmwidgets import StreamWidget

        again = mo.ui.button(value=0, on_click=lambda n: n + 1, label="Run the answer again")
        again
        return StreamWidget, again, mo


    @app.cell
    def _(StreamWidget, again, mo):
        again.value
        w = StreamWidget("replay:short", "hi", delay=0.002)
        mo.vstack([w, mo.md(f"assets model {w._assets.model_id}")])
        return (w,)


    if __name__ == "__main__":
        app.run()
    """
)


@pytest.fixture
def marimo_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """`marimo run` on 127.0.0.1 serving NOTEBOOK, with marimo's state under tmp_path."""
    notebook = tmp_path / "stream_in_marimo.py"
    notebook.write_text(NOTEBOOK, encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "HOME": str(tmp_path / "home"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "MARIMO_SKIP_UPDATE_CHECK": "1",
        }
    )
    port = free_port()
    cmd = [
        str(VENV_BIN / "marimo"),
        "run",
        "--headless",
        "--no-token",
        "--no-sandbox",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        str(notebook),
    ]
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "marimo.log"
    health = f"{url}/health"
    process = start_server(
        cmd, env=env, cwd=tmp_path, log_path=log_path, url=url, health_url=health
    )
    server = ServerProcess(process, url, log_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def marimo_page(
    request: pytest.FixtureRequest, chromium: Browser, marimo_server: ServerProcess
) -> Iterator[Page]:
    with watched_page(chromium, request, marimo_server, "marimo") as page:
        yield page


def test_stream_widget_in_marimo_is_formatted_styled_and_survives_a_rerun(
    marimo_page: Page, marimo_server: ServerProcess
) -> None:
    page = marimo_page
    page.goto(marimo_server.url)

    # Playwright's CSS locators pierce marimo's open shadow roots.
    done = page.locator('.llmw-stream[data-status="done"]')
    expect(done).to_have_count(1, timeout=60_000)
    expect(done.locator("strong")).to_have_text("list comprehension")
    expect(done.locator("pre code")).to_contain_text("squares = [n * n for n in range(10)")

    # Styled: these rules come only from our stylesheet, which must reach the shadow root.
    header = done.locator(".llmw-header")
    assert header.evaluate("el => el.getRootNode() instanceof ShadowRoot")
    assert header.evaluate("el => getComputedStyle(el).display") == "flex"
    assert header.evaluate("el => getComputedStyle(el).borderBottomWidth") == "1px"
    dot_width = done.locator(".llmw-status").evaluate(
        "el => getComputedStyle(el, '::before').width"
    )
    assert dot_width == "8px"

    # Re-run the widget's cell: marimo closes the comms that cell made, the shared assets
    # model among them. The new widget must get a live assets model and render.
    assets_before = page.get_by_text("assets model").inner_text()
    done.evaluate("el => { el.dataset.beforeRerun = '1'; }")
    page.get_by_role("button", name="Run the answer again").click()
    fresh = page.locator('.llmw-stream[data-status="done"]:not([data-before-rerun])')
    expect(fresh).to_have_count(1, timeout=60_000)
    expect(fresh.locator("strong")).to_have_text("list comprehension")
    assert fresh.locator(".llmw-header").evaluate("el => getComputedStyle(el).display") == "flex"
    expect(page.get_by_text("failed to load")).to_have_count(0)
    # The page had the bundle already, so the view would render either way; the kernel must
    # also have noticed the closed model and made a new one (a fresh page needs a live one).
    expect(page.get_by_text("assets model")).not_to_have_text(assets_before)
