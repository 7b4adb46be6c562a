"""ChatWidget in a real JupyterLab and Chromium: typing, Enter, Stop, Regenerate, reload, looks.

The kernel runs the real OpenAI SDK against `wire_server` (in this pytest process, on
127.0.0.1); every answer in a chat streams the text registered under the chat's model name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .lab import DARK_THEME, LabPage, both_frontends, luminance, wait_until

pytestmark = pytest.mark.browser

ANSWER = (
    "Here is a **short** answer with a list:\n\n- one\n- two\n\n"
    "```python\nprint('hi')\n```\n\nThat is all."
)
LONG = "".join(f"Sentence number {i} goes on a little. " for i in range(400))

TEXT = "textarea.llmw-chat-text"
USER = ".llmw-user-turn"
ANSWERS = ".llmw-chat-transcript .llmw-stream"


def chat_cell(wire: Any, text: str, *, chunk: int = 8, delay: float = 0.01) -> tuple[str, str]:
    """Register `text` on the wire server; returns (cell source, text name)."""
    name = uuid.uuid4().hex[:8]
    wire.add_text(name, text)
    model = f"openai:text:{name}?chunk={chunk}&delay={delay}"
    source = (
        "from llmwidgets._widgets.chat import ChatWidget\n"
        f"chat = ChatWidget({model!r}, base_url={wire.openai_base_url!r})\n"
        "chat"
    )
    return source, name


def open_chat(notebook: Callable[..., LabPage], cell: str) -> LabPage:
    page = notebook([cell])
    page.run_cell(0)
    page.wait_output(0, TEXT)
    return page


def statuses(page: LabPage) -> list[str]:
    return page.page.eval_on_selector_all(ANSWERS, "els => els.map(e => e.dataset.status)")


def wait_last_status(page: LabPage, *wanted: str, count: int, timeout: float = 30) -> None:
    """Wait until there are `count` answers and the last one's status is one of `wanted`."""
    page.page.wait_for_function(
        "([sel, wanted, count]) => { const els = document.querySelectorAll(sel);"
        " return els.length === count && wanted.includes(els[count - 1].dataset.status); }",
        arg=[ANSWERS, list(wanted), count],
        timeout=timeout * 1000,
    )


def type_and_send(page: LabPage, text: str) -> None:
    box = page.output(0).locator(TEXT)
    box.click()
    box.fill(text)
    box.press("Enter")


@both_frontends
def test_enter_sends_and_the_answer_streams_into_a_new_turn(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    cell, _ = chat_cell(wire_server, ANSWER)
    page = open_chat(notebook, cell)
    type_and_send(page, "Tell me <b>something</b>")
    wait_last_status(page, "done", count=1)
    out = page.output(0)
    assert out.locator(USER).inner_text() == "Tell me <b>something</b>"
    assert out.locator(f"{ANSWERS} li").count() == 2
    assert out.locator(TEXT).input_value() == ""
    type_and_send(page, "And again")
    wait_last_status(page, "done", count=2)
    assert out.locator(USER).count() == 2
    bodies = [r.body for r in wire_server.requests if r.path.endswith("/chat/completions")]
    assert [m["role"] for m in bodies[-1]["messages"]] == ["user", "assistant", "user"]
    page.screenshot("chat-light", out)


def test_shift_enter_inserts_a_newline_instead_of_sending(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    cell, _ = chat_cell(wire_server, ANSWER)
    page = open_chat(notebook, cell)
    box = page.output(0).locator(TEXT)
    box.click()
    box.type("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    assert page.output(0).locator(USER).count() == 0
    box.press("Enter")
    page.output(0).locator(USER).first.wait_for()
    assert page.output(0).locator(USER).inner_text() == "line one\nline two"
    # No cell ran or moved: the outputs are still the chat and its saved-copy slot.
    assert page.cell(0).locator(".jp-OutputArea-child").count() == 2


def test_up_on_an_empty_box_recalls_the_last_message(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    cell, _ = chat_cell(wire_server, ANSWER, delay=0)
    page = open_chat(notebook, cell)
    type_and_send(page, "Remember me")
    wait_last_status(page, "done", count=1)
    box = page.output(0).locator(TEXT)
    box.press("ArrowUp")
    assert box.input_value() == "Remember me"


def test_stop_ends_the_answer_and_keeps_its_partial_text(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    cell, _ = chat_cell(wire_server, LONG, delay=0.03)
    page = open_chat(notebook, cell)
    out = page.output(0)
    type_and_send(page, "Go on")
    wait_last_status(page, "streaming", count=1)
    assert out.locator("button.llmw-send").is_disabled()
    stop = out.locator("button.llmw-chat-stop")
    assert stop.is_enabled()
    wait_until(lambda: len(out.locator(f"{ANSWERS} .llmw-body").inner_text()) > 40, 10, "text")
    stop.click()
    wait_last_status(page, "stopped", count=1)
    body = out.locator(f"{ANSWERS} .llmw-body")
    shown = wait_until(lambda: body.inner_text(), 5, "the partial answer after Stop")
    assert len(shown) < len(LONG)
    wait_until(lambda: stop.is_disabled(), 5, "Stop to be disabled again")
    out.locator(TEXT).fill("ok")
    assert out.locator("button.llmw-send").is_enabled()


def test_regenerate_replaces_the_last_answer(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    cell, _ = chat_cell(wire_server, ANSWER, delay=0)
    page = open_chat(notebook, cell)
    type_and_send(page, "Q")
    wait_last_status(page, "done", count=1)
    requests_before = len(wire_server.requests)
    page.output(0).locator("button.llmw-regenerate").click()
    wait_until(lambda: len(wire_server.requests) > requests_before, 10, "a new request")
    wait_last_status(page, "done", count=1)
    assert page.output(0).locator(USER).count() == 1
    assert [m["role"] for m in wire_server.requests[-1].body["messages"]] == ["user"]


def test_reload_keeps_the_transcript(wire_server: Any, notebook: Callable[..., LabPage]) -> None:
    cell, _ = chat_cell(wire_server, ANSWER, delay=0)
    page = open_chat(notebook, cell)
    type_and_send(page, "First question")
    wait_last_status(page, "done", count=1)
    type_and_send(page, "Second question")
    wait_last_status(page, "done", count=2)
    page.command("docmanager:save")
    page.reload()
    page.wait_output(0, TEXT)
    wait_last_status(page, "done", count=2)
    out = page.output(0)
    assert out.locator(USER).all_inner_texts() == ["First question", "Second question"]
    wait_until(
        lambda: all(
            "That is all." in t for t in out.locator(f"{ANSWERS} .llmw-body").all_inner_texts()
        ),
        10,
        "both answers' text after the reload",
    )


def test_reload_mid_answer_reattaches_the_streaming_answer(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    # ~40 s of answer, so it still streams after a slow reload; Stop in the reloaded chat ends
    # it, and the view must then match the kernel's text.
    cell, _ = chat_cell(wire_server, LONG, delay=0.02)
    page = notebook([cell, "print(chat.current.text)"])
    page.run_cell(0)
    page.wait_output(0, TEXT)
    type_and_send(page, "Go on")
    wait_last_status(page, "streaming", count=1)
    body = page.output(0).locator(f"{ANSWERS} .llmw-body")
    wait_until(lambda: len(body.inner_text()) > 40, 20, "some text before the reload")
    # The chat's view lives in the notebook's outputs: save so the reloaded page has them.
    page.command("docmanager:save")
    page.reload()
    page.wait_output(0, TEXT)
    wait_last_status(page, "streaming", count=1)
    out = page.output(0)
    assert out.locator(USER).inner_text() == "Go on"
    after_reload = wait_until(lambda: len(body.inner_text()), 20, "the snapshot after reload")
    wait_until(lambda: len(body.inner_text()) > after_reload + 40, 20, "text to keep growing")
    assert body.inner_text().startswith("Sentence number 0 goes")
    out.locator("button.llmw-chat-stop").click()
    wait_last_status(page, "stopped", count=1)
    page.run_cell(1)
    kernel_text = page.wait_output(1, "pre").inner_text().strip()
    wait_until(lambda: body.inner_text().strip() == kernel_text, 10, "the view to match the kernel")
    bodies = [r for r in wire_server.requests if r.path.endswith("/chat/completions")]
    assert len(bodies) == 1, "the reload must not send the question again"
    page.screenshot("chat-after-reload", out)


def test_dark_theme_chat_is_readable(wire_server: Any, notebook: Callable[..., LabPage]) -> None:
    cell, _ = chat_cell(wire_server, ANSWER, delay=0)
    page = open_chat(notebook, cell)
    type_and_send(page, "How does it look in the dark?")
    wait_last_status(page, "done", count=1)
    page.set_theme(DARK_THEME)
    out = page.output(0)
    out.locator(TEXT).fill("A draft message")
    colors = page.page.evaluate(
        """() => {
          // Any CSS colour (color-mix() computes to color(srgb ...)) as rgb(), via a canvas.
          const ctx = document.createElement('canvas').getContext('2d');
          const rgb = (c) => {
            ctx.clearRect(0, 0, 1, 1);
            ctx.fillStyle = c;
            ctx.fillRect(0, 0, 1, 1);
            const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
            return `rgb(${r}, ${g}, ${b})`;
          };
          const opaque = (el) => {
            let bg = 'rgba(0, 0, 0, 0)';
            while (el && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
              bg = getComputedStyle(el).backgroundColor;
              el = el.parentElement;
            }
            return rgb(bg);
          };
          const user = document.querySelector('.llmw-user-turn');
          const box = document.querySelector('textarea.llmw-chat-text');
          return [rgb(getComputedStyle(user).color), opaque(user),
                  rgb(getComputedStyle(box).color), opaque(box)];
        }"""
    )
    page.screenshot("chat-dark", out)
    user_fg, user_bg, box_fg, box_bg = colors
    assert luminance(user_fg) > 0.6 and luminance(user_bg) < 0.3
    assert luminance(box_fg) > 0.6 and luminance(box_bg) < 0.2
