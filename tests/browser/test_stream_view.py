"""StreamWidget in a real JupyterLab and Chromium, streaming from the loopback wire server.

The kernel runs the real OpenAI / Anthropic SDKs against `wire_server` (in this pytest process,
on 127.0.0.1); the model name picks what the server streams and how slowly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .lab import DARK_THEME, LabPage, both_frontends, luminance, wait_until

pytestmark = pytest.mark.browser

ROOT = ".llmw-stream"
BODY = ".llmw-stream .llmw-body"

# Formatting first, then a long plain tail so the stream is still running when it renders.
FORMATTED = (
    "# Heading\n\nSome **bold words** and *italics*.\n\n- first item\n- second item\n\n"
    "```python\nprint('hello')\n```\n\n"
)
TAIL = "".join(f"Sentence number {i} goes on a little. " for i in range(300))

PAYLOADS = """Here come payloads.

<img src=x onerror="window.__pwned = 1">

<script>window.__pwned = 1</script>

<svg onload="window.__pwned = 1"><circle r="5"/></svg>

[click me](javascript:window.__pwned=1)

<iframe srcdoc="<script>parent.__pwned = 1</script>"></iframe>

<a href="javascript:window.__pwned=1">raw link</a> and <b onmouseover="window.__pwned=1">bold</b>

```html
<script>window.__pwned = 1</script>
```

The end.
"""


def stream_cell(
    wire: Any, text: str, *, chunk: int = 8, delay: float = 0.02, api: str = "openai"
) -> str:
    """Register `text` on the wire server; return a cell that streams it into a StreamWidget."""
    name = uuid.uuid4().hex[:8]
    wire.add_text(name, text)
    base_url = wire.openai_base_url if api == "openai" else wire.anthropic_base_url
    model = f"{api}:text:{name}?chunk={chunk}&delay={delay}"
    return (
        "from llmwidgets import StreamWidget\n"
        f"w = StreamWidget({model!r}, 'hi', base_url={base_url!r})\n"
        "w"
    )


def status(page: LabPage) -> str | None:
    return page.output(0).locator(ROOT).first.get_attribute("data-status")


def wait_status(page: LabPage, *wanted: str, timeout: float = 30) -> str:
    """Wait until the widget's `data-status` is one of `wanted`; returns it."""
    page.page.wait_for_function(
        "([sel, wanted]) => { const el = document.querySelector(sel);"
        " return !!el && wanted.includes(el.dataset.status); }",
        arg=[ROOT, list(wanted)],
        timeout=timeout * 1000,
    )
    found = status(page)
    assert found is not None
    return found


def body_text(page: LabPage) -> str:
    """The answer's text as the DOM holds it (textContent: independent of layout)."""
    return page.output(0).locator(BODY).first.text_content() or ""


def tokens_shown(page: LabPage) -> int:
    """The integer in `.llmw-tokens` ("~123 tokens" -> 123; empty -> 0)."""
    text = page.output(0).locator(".llmw-tokens").first.inner_text()
    match = re.search(r"\d+", text.replace(",", ""))
    return int(match.group()) if match else 0


def start_stream(notebook: Callable[..., LabPage], cell: str) -> LabPage:
    page = notebook([cell])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    return page


@both_frontends
def test_markdown_is_formatted_while_the_answer_still_streams(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = start_stream(notebook, stream_cell(wire_server, FORMATTED + TAIL))
    body = page.output(0).locator(BODY)
    for selector in ("h1", "strong", "em", "li", "pre code"):
        body.locator(selector).first.wait_for()
    assert status(page) == "streaming"
    assert body.locator("strong").first.inner_text() == "bold words"
    assert body.locator("li").count() == 2
    page.screenshot("stream-markdown-while-streaming", page.output(0))


def test_token_counter_rises_while_streaming(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = start_stream(notebook, stream_cell(wire_server, TAIL))
    wait_status(page, "streaming")
    first = wait_until(lambda: tokens_shown(page), 20, "a first token count")
    later = wait_until(
        lambda: (n := tokens_shown(page)) > first and n, 20, "the token count to rise"
    )
    assert status(page) == "streaming"
    assert later > first
    page.screenshot("stream-counter-rising", page.output(0))


@both_frontends
def test_stop_button_ends_the_stream_and_closes_the_connection(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([stream_cell(wire_server, TAIL, delay=0.05), "print(w.status, w.text)"])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    wait_status(page, "streaming")
    wait_until(lambda: len(body_text(page)) > 40, 20, "some text")
    page.output(0).locator("button.llmw-stop").click()
    assert wait_status(page, "stopped", "done", "error") == "stopped"
    disconnect = wire_server.wait_for_disconnect(timeout=10)
    assert disconnect.path == "/v1/chat/completions"
    page.run_cell(1)
    kernel_says = page.wait_output(1, "pre").inner_text()
    assert kernel_says.startswith("stopped Sentence number 0 ")
    partial = kernel_says.removeprefix("stopped ").strip()
    assert len(partial) < len(TAIL.strip())
    wait_until(lambda: body_text(page).strip() == partial, 10, "the view to show the partial text")
    page.page.wait_for_timeout(500)
    assert body_text(page).strip() == partial
    assert len(wire_server.requests) == 1
    page.screenshot("stream-stopped", page.output(0))


@both_frontends
def test_the_notebooks_interrupt_button_stops_an_answer_streaming_after_its_cell_returned(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = notebook([stream_cell(wire_server, TAIL, delay=0.05)])
    page.run_cell(0)
    page.wait_output(0, ROOT)
    wait_status(page, "streaming")
    wait_until(lambda: len(body_text(page)) > 40, 20, "some text")
    page.page.locator('.jp-Toolbar-item[data-jp-item-name="interrupt"]').click()
    assert wait_status(page, "stopped", "done", "error") == "stopped"
    assert wire_server.wait_for_disconnect(timeout=10).path == "/v1/chat/completions"
    assert 40 < len(body_text(page).strip()) < len(TAIL.strip())


@both_frontends
def test_page_reload_mid_stream_reattaches_and_shows_the_whole_answer(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    # ~30 s of answer, so it still streams after a slow reload; the test stops it once the
    # reloaded view has caught up and kept growing, then compares it with the kernel's text.
    cells = [stream_cell(wire_server, TAIL, chunk=8, delay=0.02), "w.stop()", "print(w.text)"]
    page = notebook(cells)
    page.run_cell(0)
    page.wait_output(0, ROOT)
    wait_status(page, "streaming")
    wait_until(lambda: len(body_text(page)) > 40, 20, "some text before the reload")
    # The widget view lives in the notebook's outputs: save so the reloaded page has them.
    page.command("docmanager:save")
    page.reload()
    page.wait_output(0, ROOT)
    assert wait_status(page, "streaming", "done") == "streaming", "the stream ended before reload"
    after_reload = wait_until(lambda: len(body_text(page)), 20, "the snapshot after reload")
    wait_until(lambda: len(body_text(page)) > after_reload + 40, 20, "text to keep growing")
    assert "Sentence number 0 goes" in body_text(page)
    page.run_cell(1)
    assert wait_status(page, "stopped", "done", "error") == "stopped"
    page.run_cell(2)
    kernel_text = page.wait_output(2, "pre").inner_text().strip()
    wait_until(lambda: body_text(page).strip() == kernel_text, 10, "the view to match the kernel")
    assert len(wire_server.requests) == 1, "the reload must not restart the stream"
    assert len(wire_server.disconnects) <= 1, "only Stop may close the connection"
    page.screenshot("stream-after-reload", page.output(0))


@both_frontends
def test_dark_theme_shows_light_text_on_a_dark_background(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = start_stream(
        notebook, stream_cell(wire_server, FORMATTED + "Plain closing words.", delay=0)
    )
    wait_status(page, "done")
    page.set_theme(DARK_THEME)
    text_color, background = page.page.evaluate(
        """(sel) => {
          const p = document.querySelector(sel + ' p');
          let el = p, bg = 'rgba(0, 0, 0, 0)';
          while (el && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) {
            bg = getComputedStyle(el).backgroundColor;
            el = el.parentElement;
          }
          return [getComputedStyle(p).color, bg];
        }""",
        BODY,
    )
    page.screenshot("stream-dark-theme", page.output(0))
    assert luminance(text_color) > 0.6
    assert luminance(background) < 0.2


def test_script_payloads_in_an_answer_run_none(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    page = start_stream(notebook, stream_cell(wire_server, PAYLOADS, chunk=7, delay=0.005))
    wait_status(page, "done")
    page.output(0).locator(BODY).get_by_text("The end.").wait_for()
    page.page.wait_for_timeout(300)  # give any onerror/onload time to fire
    assert page.page.evaluate("() => window.__pwned") is None
    dangerous = page.page.evaluate(
        """(sel) => {
          const body = document.querySelector(sel);
          const bad = [];
          for (const el of body.querySelectorAll('*')) {
            if (['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'svg'].includes(el.tagName)) bad.push(el.tagName);
            for (const a of el.attributes) {
              if (a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value)) bad.push(el.tagName + '[' + a.name + ']');
            }
          }
          return bad;
        }""",
        BODY,
    )
    assert dangerous == []
    page.screenshot("stream-script-payloads", page.output(0))


def test_images_in_an_answer_are_links_and_nothing_is_fetched(
    wire_server: Any, notebook: Callable[..., LabPage]
) -> None:
    answer = (
        "A chart: ![sales *chart*](http://127.0.0.1:9/leak.png?secret=abc)\n\n"
        "A relative one: ![local](files/leak-relative.png)\n\nThe end.\n"
    )
    cell = stream_cell(wire_server, answer, chunk=7, delay=0.005)
    requested: list[str] = []
    page = notebook([cell])
    page.page.on("request", lambda request: requested.append(request.url))
    page.run_cell(0)
    page.wait_output(0, ROOT)
    wait_status(page, "done")
    body = page.output(0).locator(BODY)
    body.get_by_text("The end.").wait_for()
    page.page.wait_for_timeout(300)
    assert body.locator("img").count() == 0
    links = body.locator("a.llmw-image-link")
    assert links.all_inner_texts() == ["🖼 sales chart", "🖼 local"]
    assert [u for u in requested if "leak" in u] == []


def test_an_anthropic_stream_renders(wire_server: Any, notebook: Callable[..., LabPage]) -> None:
    cell = stream_cell(wire_server, FORMATTED + "Closing words.", api="anthropic", delay=0.005)
    page = start_stream(notebook, cell)
    assert wait_status(page, "done", "error") == "done"
    body = page.output(0).locator(BODY)
    assert body.locator("strong").first.inner_text() == "bold words"
    assert body.locator("pre code").count() == 1
    assert wire_server.requests[-1].path == "/v1/messages"
    page.screenshot("stream-anthropic", page.output(0))


def test_the_offline_model_streams_and_is_labelled_unreliable(
    notebook: Callable[..., LabPage],
) -> None:
    cell = (
        "from llmwidgets import StreamWidget\n"
        "w = StreamWidget('local:smollm2', 'Say hello in one short sentence.', max_tokens=24)\n"
        "w"
    )
    page = start_stream(notebook, cell)
    assert wait_status(page, "done", "error", timeout=90) == "done"
    assert body_text(page).strip()
    note = page.output(0).locator(".llmw-note").first.inner_text()
    assert "tiny offline model" in note and "not reliable" in note
    assert "~" not in page.output(0).locator(".llmw-tokens").first.inner_text()  # exact usage
    page.screenshot("stream-offline-model", page.output(0))
