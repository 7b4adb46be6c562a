"""The end of a stream, and a notebook reopened the next morning, in a real JupyterLab.

Reopened with default settings (widget state is not saved) and a new kernel, every answer reads
formatted from its saved copy, with no "model not found"; while the kernel lives, the end of a
stream leaves the live view in place (no new view, no snapshot) and the answer crosses the
websocket twice: as deltas and once as the saved copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .lab import LabPage, both_frontends, wait_until
from .test_stream_view import FORMATTED, TAIL

pytestmark = pytest.mark.browser

SAVED = ".llmw-saved"
#: A sentence that appears once in the answer and contains nothing markdown changes.
MARKER = "Marker sentence 7f3a goes here plainly."


def add_text(wire: Any, text: str) -> str:
    name = uuid.uuid4().hex[:8]
    wire.add_text(name, text)
    return name


def answer_cells(wire: Any) -> list[str]:
    """`%%llm`, a ChatWidget with one turn and a two-pane compare, all from the wire server."""
    text = add_text(wire, FORMATTED + MARKER)
    url = wire.openai_base_url
    model = f"openai:text:{text}?chunk=16&delay=0.005"
    return [
        "%load_ext llmwidgets",
        f"%%llm {model} --base-url {url}\nhi",
        "from llmwidgets import ChatWidget\n"
        f"chat = ChatWidget({model!r}, base_url={url!r})\n"
        "display(chat)\n"
        "await chat.send('What is formatting?')",
        "from llmwidgets import compare\n"
        f"grid = compare([{model!r}, {model!r}], 'hi', base_url={url!r})\n"
        "display(grid)\n"
        "await grid",
    ]


def saved_notebook(page: LabPage) -> dict[str, Any]:
    return dict(page.lab.api("GET", f"/api/contents/{page.notebook_path}?content=1").json())


def saved_copies(page: LabPage) -> list[str]:
    """Each code cell's saved-copy HTML ('' where the cell has none yet)."""
    cells = saved_notebook(page)["content"]["cells"]
    return [
        "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))
        for cell in cells
    ]


@both_frontends
def test_a_reopened_notebook_shows_every_answer_formatted_and_no_error(
    wire_server: Any, notebook: Callable[..., LabPage], frontend: str
) -> None:
    page = notebook(answer_cells(wire_server), frontend=frontend)
    page.run_all()

    def saved_with_every_copy() -> bool:
        page.command("docmanager:save")
        return all(MARKER in html for html in saved_copies(page)[1:])

    wait_until(saved_with_every_copy, 90, "every answer's copy in the saved file", interval=1.0)
    # While the kernel lives, the live views show and the saved copies are hidden.
    for index in (1, 2, 3):
        assert page.output(index).locator(".llmw-stream").first.is_visible()
        assert not page.output(index).locator(SAVED).first.is_visible()

    page.page.goto("about:blank")
    page.lab.shutdown_sessions()
    page.open(page.notebook_path, frontend=frontend)  # what opening the file tomorrow does
    for index in (1, 2, 3):
        saved = page.wait_output(index, SAVED, timeout=30)
        assert saved.locator("h1").first.inner_text() == "Heading"
        assert saved.locator("strong", has_text="bold words").count() >= 1
        assert saved.locator("pre code").first.inner_text().strip() == "print('hello')"
    page.page.wait_for_timeout(1000)  # the widget manager's restore has finished by now
    text = page.page.locator(".jp-Notebook").inner_text()
    assert "model not found" not in text
    assert "Error displaying widget" not in text
    assert "Loading widget" not in text
    assert page.page.locator(".llmw-stream").count() == 0
    page.screenshot("reopened-notebook")


def record_frames(page: LabPage) -> list[str]:
    """Every websocket frame the page receives from now on, decoded as text."""
    frames: list[str] = []

    def on_socket(ws: Any) -> None:
        def on_frame(payload: str | bytes) -> None:
            if isinstance(payload, bytes):
                payload = payload.decode("utf-8", errors="replace")
            frames.append(payload)

        ws.on("framereceived", on_frame)

    page.page.on("websocket", on_socket)
    return frames


def test_the_end_of_a_stream_keeps_the_view_and_sends_the_answer_once_more(
    wire_server: Any, lab_page: LabPage, notebook: Callable[..., LabPage]
) -> None:
    frames = record_frames(lab_page)
    answer = TAIL + MARKER
    name = add_text(wire_server, answer)
    page = notebook(
        [
            "from llmwidgets import StreamWidget\n"
            f"w = StreamWidget('openai:text:{name}?chunk=64&delay=0.002', 'hi', "
            f"base_url={wire_server.openai_base_url!r})\n"
            "w"
        ]
    )
    page.run_cell(0)
    page.wait_output(0, ".llmw-stream")
    # Tag the live view, and watch for any new view or "Loading widget..." flash.
    page.page.evaluate(
        """() => {
        const root = document.querySelector('.llmw-stream');
        root.dataset.firstView = '1';
        window.__llmwLoading = 0;
        new MutationObserver(() => {
          if (document.querySelector('.jp-OutputArea')?.innerText.includes('Loading widget'))
            window.__llmwLoading += 1;
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }"""
    )
    page.page.wait_for_function(
        "() => document.querySelector('.llmw-stream')?.dataset.status === 'done'", timeout=60_000
    )
    page.output(0).locator(SAVED).first.wait_for(state="attached", timeout=30_000)
    page.page.wait_for_timeout(1500)  # anything the end triggers has arrived by now

    views = page.page.locator(".llmw-stream")
    assert views.count() == 1
    assert views.first.get_attribute("data-first-view") == "1", "the view was rebuilt"
    assert page.page.evaluate("() => window.__llmwLoading") == 0
    assert not any('"snapshot"' in f for f in frames), "a snapshot resent the answer"
    # Deltas carry each part once, the saved copy once more: the marker in the copy's frame,
    # and at most once in the deltas (it may be split across two).
    copies = [f for f in frames if MARKER in f]
    assert 1 <= len(copies) <= 2, json.dumps([c[:200] for c in copies])
    body = page.output(0).locator(".llmw-body").first.text_content() or ""
    assert MARKER in body
    received = sum(len(f.encode()) for f in frames if "comm_msg" in f or "display_data" in f)
    assert received < 3 * len(answer), f"{received} bytes for a {len(answer)}-byte answer"


def test_a_live_view_hides_its_saved_copy_where_the_lab_style_does_not_reach(
    wire_server: Any, lab_page: LabPage, notebook: Callable[..., LabPage]
) -> None:
    """Front ends without JupyterLab's output classes (VS Code draws every output of a notebook in
    one document) get no help from the copy's own style; the view hides the copy by its key."""
    name = add_text(wire_server, TAIL + MARKER)
    page = notebook(
        [
            "from llmwidgets import StreamWidget\n"
            f"w = StreamWidget('openai:text:{name}?chunk=64&delay=0.002', 'hi', "
            f"base_url={wire_server.openai_base_url!r})\n"
            "w"
        ]
    )
    page.run_cell(0)
    copy = page.output(0).locator(SAVED).first
    copy.wait_for(state="attached", timeout=60_000)
    assert len(copy.get_attribute("data-llmw-copy") or "") == 32
    # Take away what only JupyterLab's classes make work: the style inside the copy.
    page.page.evaluate(
        "() => document.querySelectorAll('.llmw-saved style').forEach(s => s.remove())"
    )
    assert copy.evaluate("el => getComputedStyle(el).display") == "none"
    assert MARKER in (page.output(0).locator(".llmw-body").first.text_content() or "")
