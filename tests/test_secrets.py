"""API keys never reach a saved notebook: not its outputs, not its widget state, not error text.

A real kernel runs a notebook with nbclient (which also saves widget state in the notebook's
metadata, as JupyterLab does when asked to) against the loopback wire server; the server's 401
answers quote the key they were sent, as real APIs do. The saved file is then searched for the
key and for its tail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support import code_notebook

pytestmark = pytest.mark.kernel

SECRET = "sk-test-Zq8vN3kW5tP1rX7yL2mC9dF4"


def build(wire: Any) -> nbformat.NotebookNode:
    wire.add_text("secret-answer", "A harmless answer.")
    openai_url, anthropic_url = wire.openai_base_url, wire.anthropic_base_url
    cells = [
        "from llmwidgets import StreamWidget, ChatWidget, compare\n"
        f"w = StreamWidget('openai:text:secret-answer', 'hi', base_url={openai_url!r})\n"
        "display(w)\n"
        "_ = await w",
        f"bad = StreamWidget('openai:http-401', 'hi', base_url={openai_url!r})\n"
        "display(bad)\n"
        "try:\n    await bad\nexcept Exception as exc:\n    print(exc)",
        f"chat = ChatWidget('anthropic:http-401', base_url={anthropic_url!r})\n"
        "display(chat)\n"
        "try:\n    await chat.send('hi')\nexcept Exception as exc:\n    print(exc)",
        f"grid = compare(['openai:http-401', 'openai:text:secret-answer'], 'hi',\n"
        f"               base_url={openai_url!r})\n"
        "display(grid)\n"
        "_ = await grid",
        "%load_ext llmwidgets",
        f"%%llm anthropic:http-401 --base-url {anthropic_url}\nhi",
    ]
    return code_notebook(cells)


def test_a_saved_notebook_holds_no_api_key_anywhere(
    wire_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel inherits the keys from the environment, as it would from a user's shell.
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("LLMWIDGETS_HEADLESS", "0")
    nb = build(wire_server)
    NotebookClient(
        nb, kernel_name="python3", timeout=60, allow_errors=True, store_widget_state=True
    ).execute()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    saved = path.read_text()

    keys = {
        r.headers.get("authorization", r.headers.get("x-api-key")) for r in wire_server.requests
    }
    assert keys & {SECRET, f"Bearer {SECRET}"}  # the key was sent...
    assert "Authentication failed" in saved  # ...the failures are in the notebook...
    assert "widget-state" in saved  # ...and so is the widget state
    assert SECRET not in saved
    assert SECRET[-8:] not in saved
    assert SECRET[3:15] not in saved
