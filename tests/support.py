"""Plain helpers shared by test modules (fixtures live in `conftest.py`)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmwidgets.widgets.compare import CompareWidget

if TYPE_CHECKING:
    import nbformat
    from wire_server import WireServer

    from llmwidgets.widgets.stream import StreamWidget

#: The repository's root.
ROOT = Path(__file__).resolve().parent.parent

#: A 1×1 red PNG: an image to send without a plotting library.
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def text_model(wire: WireServer, name: str, text: str, chunk: int = 4, delay: float = 0.0) -> str:
    """`openai:` model whose answer is `text`, streamed `chunk` characters every `delay` s.

    The wire server stores `text` under `name`: a later call with the same name replaces it.
    """
    wire.add_text(name, text)
    return f"openai:text:{name}?chunk={chunk}&delay={delay}"


#: The SDK providers the loopback server speaks for.
SDK_PROVIDERS = ["openai", "anthropic", "google", "openai-responses"]


def base_url_for(wire: WireServer, provider: str) -> str:
    """The loopback server's address for `provider`'s SDK."""
    urls = {
        "openai": wire.openai_base_url,
        "openai-responses": wire.openai_base_url,
        "anthropic": wire.anthropic_base_url,
        "google": wire.gemini_base_url,
    }
    return str(urls[provider])


async def until(check: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll `check()` on the running loop until it is true; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        await asyncio.sleep(0.002)


async def ended(widget: StreamWidget | CompareWidget, timeout: float = 30.0) -> Any:
    """Wait until `widget` has ended, however it ended; never raises for a failed answer.

    A `CompareWidget`: its `wait()`, which returns `results`. A `StreamWidget`: its run's task,
    not `wait()` (which raises a failed answer's error and refreshes the displays); returns None.
    """
    if isinstance(widget, CompareWidget):
        return await asyncio.wait_for(widget.wait(), timeout)
    assert widget.run is not None and widget.run.task is not None
    await asyncio.wait_for(asyncio.shield(widget.run.task), timeout)
    return None


# -- notebooks run headless ----------------------------------------------------------------


def code_notebook(cells: list[str]) -> nbformat.NotebookNode:
    """A notebook of code cells bound to the python3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run like `jupyter nbconvert --execute`: nbclient and the venv's python3 kernel."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def saved_markdown(nb: nbformat.NotebookNode, path: Path) -> str:
    """Write `nb` to `path`, read it back and export it to markdown, as nbconvert would."""
    import nbformat
    from nbconvert import MarkdownExporter

    nbformat.write(nb, path)
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(path, as_version=4))
    return body
