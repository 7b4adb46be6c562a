"""StreamWidget in marimo: streams formatted, styled inside marimo's shadow root, and survives
its cell being re-run.

marimo draws each anywidget inside a shadow root, which the page's stylesheets do not reach,
and closes the comm of every model a cell made when that cell re-runs, including the shared
assets model (widgets/assets.py) that other widgets point at.
"""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from .lab import ARTIFACTS, VENV_BIN, free_port, wait_until

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


@dataclass
class MarimoServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's own process group (it runs the kernel), then SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def marimo_server(tmp_path: Path) -> Iterator[MarimoServer]:
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
    log_path = tmp_path / "marimo.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True
        )
    server = MarimoServer(process, f"http://127.0.0.1:{port}", log_path)

    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"marimo exited with {process.returncode}: {server.log_tail()}")
        return requests.get(f"{server.url}/health", timeout=2).ok

    try:
        wait_until(healthy, 60, "marimo's /health")
        yield server
    finally:
        server.stop()


@pytest.fixture
def marimo_page(
    request: pytest.FixtureRequest, chromium: Browser, marimo_server: MarimoServer
) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / "FAILED-marimo.png"))
            except Exception:  # a dead page must not hide the real failure
                pass
            print("--- browser console ---\n" + "\n".join(console[-50:]))
            print("--- marimo log ---\n" + marimo_server.log_tail())
        context.close()


def test_stream_widget_in_marimo_is_formatted_styled_and_survives_a_rerun(
    marimo_page: Page, marimo_server: MarimoServer
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
