"""StreamWidget, ChatWidget and compare() in marimo: they stream formatted, styled inside
marimo's shadow roots, stop, and survive their cell being re-run.

marimo draws each anywidget inside a shadow root, which the page's stylesheets do not reach,
and closes the comm of every model a cell made when that cell re-runs, including the shared
assets model (widgets/assets.py) that other widgets point at. The chat and the comparison are
one anywidget each, whose view draws the child streams' models (marimo refuses ipywidgets
containers). Answers are recordings (`replay:`): no key, no network.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from llmwidgets.providers.replay import load_recording

from .lab import ARTIFACTS, VENV_BIN, ServerProcess, free_port, start_server, watched_page

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


# Two chats: a fast one re-made by the button (a re-run of its cell), and one at the long
# recording's own pace (~17 s), so a Stop click lands mid-answer.
CHAT_NOTEBOOK = textwrap.dedent(
    """
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        import marimo as mo

        from llmwidgets import ChatWidget

        again = mo.ui.button(value=0, on_click=lambda n: n + 1, label="Start a new chat")
        again
        return ChatWidget, again


    @app.cell
    def _(ChatWidget, again):
        again.value
        chat = ChatWidget("replay:short", delay=0.03)
        chat
        return (chat,)


    @app.cell
    def _(ChatWidget):
        slow = ChatWidget("replay:long")
        slow
        return (slow,)


    if __name__ == "__main__":
        app.run()
    """
)

COMPARE_NOTEBOOK = textwrap.dedent(
    """
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        from llmwidgets import compare

        grid = compare(["replay:short", "replay:tour"], "hi", delay=0.05)
        grid
        return (grid,)


    if __name__ == "__main__":
        app.run()
    """
)

LONG = load_recording("long")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def marimo_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """`marimo run` on 127.0.0.1 serving a notebook (NOTEBOOK unless the test passes another
    through indirect parametrisation), with marimo's state under tmp_path."""
    notebook = tmp_path / "in_marimo.py"
    notebook.write_text(getattr(request, "param", NOTEBOOK), encoding="utf-8")
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


def type_and_send(chat: Locator, text: str) -> None:
    box = chat.locator("textarea.llmw-chat-text")
    box.click()
    box.fill(text)
    box.press("Enter")


def computed(locator: Locator, prop: str, pseudo: str | None = None) -> str:
    return str(
        locator.evaluate(
            "(el, [prop, pseudo]) => getComputedStyle(el, pseudo).getPropertyValue(prop)",
            [prop, pseudo],
        )
    )


@pytest.mark.parametrize("marimo_server", [CHAT_NOTEBOOK], indirect=True, ids=["chat"])
def test_chat_in_marimo_sends_on_enter_and_streams_a_styled_answer(
    marimo_page: Page, marimo_server: ServerProcess
) -> None:
    page = marimo_page
    page.goto(marimo_server.url)
    chat = page.locator(".llmw-chat").first
    expect(chat.locator("textarea.llmw-chat-text")).to_be_visible(timeout=60_000)
    type_and_send(chat, "What is a <b>list comprehension</b>?")

    expect(chat.locator(".llmw-user-turn")).to_have_text("What is a <b>list comprehension</b>?")
    answer = chat.locator(".llmw-chat-transcript .llmw-stream")
    expect(answer).to_have_attribute("data-status", "streaming", timeout=30_000)
    tokens = answer.locator(".llmw-tokens")
    expect(tokens).to_contain_text("tokens")  # the live counter
    expect(answer).to_have_attribute("data-status", "done", timeout=60_000)
    expect(answer.locator(".llmw-body strong")).to_have_text("list comprehension")
    expect(answer.locator(".llmw-body pre code")).to_contain_text("squares = [n * n")
    expect(chat.locator("textarea.llmw-chat-text")).to_have_value("")

    # Styled inside marimo's shadow root: these rules come only from our stylesheet.
    box = chat.locator(".llmw-chat-input")
    assert box.evaluate("el => el.getRootNode() instanceof ShadowRoot")
    assert computed(box, "border-top-left-radius") == "10px"
    assert computed(chat, "display") == "flex"
    assert computed(answer.locator(".llmw-header"), "display") == "flex"
    assert computed(chat.locator(".llmw-user-turn"), "border-top-left-radius") == "14px"
    assert computed(chat.locator(".llmw-chat-answer"), "border-left-width") == "2px"

    type_and_send(chat, "And again")
    expect(chat.locator(".llmw-chat-transcript .llmw-stream[data-status=done]")).to_have_count(
        2, timeout=60_000
    )
    expect(page.get_by_text("not supported")).to_have_count(0)
    screenshot(page, "marimo-chat")


@pytest.mark.parametrize("marimo_server", [CHAT_NOTEBOOK], indirect=True, ids=["chat"])
def test_stop_in_a_marimo_chat_keeps_the_partial_answer(
    marimo_page: Page, marimo_server: ServerProcess
) -> None:
    page = marimo_page
    page.goto(marimo_server.url)
    chat = page.locator(".llmw-chat").nth(1)  # the chat at the recording's own pace
    expect(chat.locator("textarea.llmw-chat-text")).to_be_visible(timeout=60_000)
    type_and_send(chat, "Tell me a long story.")
    answer = chat.locator(".llmw-chat-transcript .llmw-stream")
    expect(answer).to_have_attribute("data-status", "streaming", timeout=30_000)
    body = answer.locator(".llmw-body")
    expect(body).to_contain_text(LONG.split()[5], timeout=30_000)
    stop = chat.locator("button.llmw-chat-stop")
    expect(stop).to_be_enabled()
    expect(chat.locator("button.llmw-send")).to_be_disabled()
    stop.click()
    expect(answer).to_have_attribute("data-status", "stopped", timeout=20_000)
    expect(stop).to_be_disabled()
    shown = body.inner_text()
    assert 0 < len(shown) < len(LONG) // 2
    page.wait_for_timeout(1000)
    assert body.inner_text() == shown  # nothing more arrives
    chat.locator("textarea.llmw-chat-text").fill("ok")
    expect(chat.locator("button.llmw-send")).to_be_enabled()
    screenshot(page, "marimo-chat-stopped")


@pytest.mark.parametrize("marimo_server", [CHAT_NOTEBOOK], indirect=True, ids=["chat"])
def test_a_rerun_chat_cell_in_marimo_shows_a_new_chat_that_works(
    marimo_page: Page, marimo_server: ServerProcess
) -> None:
    page = marimo_page
    page.goto(marimo_server.url)
    chat = page.locator(".llmw-chat").first
    expect(chat.locator("textarea.llmw-chat-text")).to_be_visible(timeout=60_000)
    type_and_send(chat, "First chat")
    expect(chat.locator(".llmw-stream[data-status=done]")).to_have_count(1, timeout=60_000)
    chat.evaluate("el => { el.dataset.beforeRerun = '1'; }")

    page.get_by_role("button", name="Start a new chat").click()
    fresh = page.locator(".llmw-chat:not([data-before-rerun])").first
    expect(page.locator(".llmw-chat[data-before-rerun]")).to_have_count(0, timeout=60_000)
    expect(fresh.locator(".llmw-user-turn")).to_have_count(0)  # a new, empty chat
    type_and_send(fresh, "Second chat")
    answer = fresh.locator(".llmw-chat-transcript .llmw-stream")
    expect(answer).to_have_attribute("data-status", "done", timeout=60_000)
    expect(answer.locator(".llmw-body strong")).to_have_text("list comprehension")
    assert computed(fresh.locator(".llmw-chat-input"), "border-top-left-radius") == "10px"
    expect(page.get_by_text("failed to load")).to_have_count(0)
    expect(page.get_by_text("is gone")).to_have_count(0)


@pytest.mark.parametrize("marimo_server", [COMPARE_NOTEBOOK], indirect=True, ids=["compare"])
def test_compare_in_marimo_streams_both_panes_then_shows_the_summary(
    marimo_page: Page, marimo_server: ServerProcess
) -> None:
    page = marimo_page
    page.goto(marimo_server.url)
    grid = page.locator(".llmw-compare-grid")
    panes = grid.locator(".llmw-stream")
    expect(panes).to_have_count(2, timeout=60_000)
    # Both panes stream at once: each shows text while the other is still streaming.
    expect(grid.locator(".llmw-stream[data-status=streaming]")).to_have_count(2, timeout=30_000)
    for i in range(2):
        expect(panes.nth(i).locator(".llmw-body")).not_to_have_text("", timeout=30_000)
    expect(grid.locator(".llmw-stream[data-status=streaming]")).to_have_count(2)
    expect(page.locator(".llmw-compare-stop-all")).to_be_enabled()
    titles = grid.locator(".llmw-compare-title")
    expect(titles).to_have_count(0)  # two different models need no titles
    screenshot(page, "marimo-compare-streaming")

    table = page.locator(".llmw-compare-summary table.llmw-compare-table")
    expect(table).to_be_visible(timeout=60_000)
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(grid.locator(".llmw-stream[data-status=done]")).to_have_count(2)
    expect(page.locator(".llmw-compare-stop-all")).to_be_disabled()
    expect(panes.nth(0).locator(".llmw-body strong")).to_have_text("list comprehension")
    # Styled: the grid's columns and the panes' headers come from our stylesheet.
    assert computed(grid, "display") == "grid"
    boxes = [panes.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and boxes[1]["x"] > boxes[0]["x"]  # side by side
    assert computed(panes.nth(1).locator(".llmw-header"), "display") == "flex"
    screenshot(page, "marimo-compare-summary")
