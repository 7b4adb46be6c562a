"""A notebook served by Voilà is an app: `%%llm` answers and a `ChatWidget` stream live there.

Voilà runs the cells itself, without the `cellId` a notebook UI sends, and its page connects a
widget manager only once every cell has run; `%%llm` must choose the widget anyway (from the
environment Voilà starts its kernels with, see _magics/modes.py), not print the answer as plain
text while the page waits. The answers are recorded (`replay:`): no key, no network.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from llmwidgets._providers.replay import load_recording

from .lab import (
    ARTIFACTS,
    VENV_BIN,
    ServerProcess,
    free_port,
    jupyter_env,
    notebook_json,
    start_server,
    wait_until,
    watched_page,
)

pytest.importorskip("voila")

pytestmark = pytest.mark.browser

STREAM = ".llmw-stream"
BODY = f"{STREAM} .llmw-body"
TEXT = "textarea.llmw-chat-text"
USER = ".llmw-user-turn"
ANSWER = ".llmw-chat-transcript .llmw-stream"
LONG = load_recording("long")

# ~6 s of formatted answer: still streaming when the page shows it.
LLM_CELLS = ["%load_ext llmwidgets", "%%llm replay:tour -O delay=0.02\nHow do I read a CSV file?"]
# ~17 s of answer at the recording's own pace: time enough to press Stop.
LONG_LLM_CELLS = ["%load_ext llmwidgets", "%%llm replay:long\nTell me a long story."]
#: At the recording's own pace (~17 s), so a Stop click always lands mid-answer.
SLOW_CHAT_CELLS = ["from llmwidgets import ChatWidget\nchat = ChatWidget('replay:long')\nchat"]
CHAT_CELLS = [
    "from llmwidgets import ChatWidget\nchat = ChatWidget('replay:long', delay=0.01)\nchat"
]


@dataclass
class VoilaServer(ServerProcess):
    """`voila` serving every notebook under `root` (Voilà's tree mode) on 127.0.0.1."""

    root: Path = Path()

    def put_notebook(self, cells: list[str]) -> str:
        """Write a notebook of code cells under the root; returns the URL that runs it."""
        name = f"app_{uuid.uuid4().hex[:8]}.ipynb"
        (self.root / name).write_text(json.dumps(notebook_json(cells)), encoding="utf-8")
        return f"{self.url}/voila/render/{name}"


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    """One Voilà for the module, all Jupyter state in a temp folder, the mode not forced."""
    home = tmp_path_factory.mktemp("voila")
    env = jupyter_env(home, {})
    env.pop("LLMWIDGETS_HEADLESS", None)
    root = home / "root"
    port = free_port()
    cmd = [
        str(VENV_BIN / "voila"),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--show_tracebacks=True",
    ]
    url = f"http://127.0.0.1:{port}"
    log_path = home / "voila.log"
    process = start_server(cmd, env=env, cwd=root, log_path=log_path, url=url, health_url=url)
    server = VoilaServer(process, url, log_path, root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila_page(
    request: pytest.FixtureRequest, chromium: Browser, voila_server: VoilaServer
) -> Iterator[Page]:
    """A fresh browser context; closing it ends the page's kernel."""
    with watched_page(chromium, request, voila_server, request.node.name) as page:
        yield page


def open_app(page: Page, server: VoilaServer, cells: list[str]) -> None:
    """Open a new notebook as a Voilà app (Voilà answers once every cell has run)."""
    page.goto(server.put_notebook(cells), timeout=90_000)


def wait_ended(stream: Locator, wanted: str, timeout: float = 60) -> None:
    """Wait until `stream` has ended; it must have ended as `wanted` (else say how it did)."""
    ended = ("done", "stopped", "error")
    status = wait_until(
        lambda: (s := stream.get_attribute("data-status")) in ended and s, timeout, "the end"
    )
    error = stream.locator(".llmw-error").inner_text() if status == "error" else ""
    assert status == wanted, f"ended {status}: {error}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_an_llm_cell_streams_live_as_a_formatted_widget(
    voila_page: Page, voila_server: VoilaServer
) -> None:
    open_app(voila_page, voila_server, LLM_CELLS)
    stream = voila_page.locator(STREAM)
    expect(stream).to_have_attribute("data-status", "streaming", timeout=20_000)
    expect(stream.locator(".llmw-body strong").first).to_have_text("load a CSV file")
    screenshot(voila_page, "voila-llm-streaming")
    wait_ended(stream, "done")
    expect(stream.locator(".llmw-body table")).to_have_count(1)
    assert "tokens" in stream.locator(".llmw-tokens").inner_text()


def test_stop_in_an_llm_cell_keeps_the_partial_answer(
    voila_page: Page, voila_server: VoilaServer
) -> None:
    open_app(voila_page, voila_server, LONG_LLM_CELLS)
    stream = voila_page.locator(STREAM)
    expect(stream).to_have_attribute("data-status", "streaming", timeout=20_000)
    body = voila_page.locator(BODY)
    wait_until(lambda: len(body.text_content() or "") > 100, 20, "some of the answer")
    stream.locator("button.llmw-stop").click()
    wait_ended(stream, "stopped")
    shown = (body.text_content() or "").strip()
    assert 100 < len(shown) < len(LONG.strip())


def test_the_chat_sends_on_enter_and_streams_the_answer(
    voila_page: Page, voila_server: VoilaServer
) -> None:
    open_app(voila_page, voila_server, CHAT_CELLS)
    box = voila_page.locator(TEXT)
    box.click()
    box.fill("Tell me a <b>long</b> story")
    box.press("Enter")
    expect(voila_page.locator(USER)).to_have_text("Tell me a <b>long</b> story")
    answer = voila_page.locator(ANSWER)
    expect(answer).to_have_attribute("data-status", "streaming", timeout=20_000)
    expect(box).to_have_value("")
    screenshot(voila_page, "voila-chat-streaming")
    wait_ended(answer, "done")
    expect(answer.locator(".llmw-body h1")).to_contain_text("runs many things at once")


def test_stop_in_the_chat_keeps_the_partial_answer(
    voila_page: Page, voila_server: VoilaServer
) -> None:
    open_app(voila_page, voila_server, SLOW_CHAT_CELLS)
    box = voila_page.locator(TEXT)
    box.click()
    box.fill("Go on")
    box.press("Enter")
    answer = voila_page.locator(ANSWER)
    expect(answer).to_have_attribute("data-status", "streaming", timeout=20_000)
    body = answer.locator(".llmw-body")
    wait_until(lambda: len(body.text_content() or "") > 100, 20, "some of the answer")
    stop = voila_page.locator("button.llmw-chat-stop")
    expect(stop).to_be_enabled()
    stop.click()
    wait_ended(answer, "stopped")
    assert 100 < len((body.text_content() or "").strip()) < len(LONG.strip())
    box.fill("ok")
    expect(voila_page.locator("button.llmw-send")).to_be_enabled()
