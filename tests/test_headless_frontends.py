"""Runners with no widget front end: papermill and terminal IPython.

The same calls a notebook makes (`%%llm`, a `StreamWidget` awaited, a `ChatWidget`, `compare()`)
must leave every answer readable where nothing renders widgets: in the executed notebook
papermill writes, and printed in the terminal. The answers are recorded (`replay:`): no key,
no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from llmwidgets._providers.replay import load_recording
from tests.support import code_notebook

pytestmark = pytest.mark.kernel

IPYTHON = Path(sys.executable).parent / "ipython"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SHORT = "builds a new list from an existing one"  # words of replay:short, no markup
TOUR = "Reading a CSV file with pandas"  # the heading of replay:tour

PARAMETERS = 'question = "What is a list comprehension?"'
LLM = "%%llm replay:short -O delay=0.002 -o answer\n{question}"
LLM_BOUND = "print('bound:', answer.text)"
STREAM = "from llmwidgets import StreamWidget\nw = StreamWidget('replay:short', 'hi', delay=0.002)"
STREAM_AWAITED = "response = await w\nprint('awaited:', response.text)"
CHAT = "from llmwidgets import ChatWidget\nchat = ChatWidget('replay:short', delay=0.002)"
CHAT_SENT = "reply = await chat.send('hi')\nprint('chat:', reply.text)"
COMPARE = (
    "from llmwidgets import compare\n"
    "grid = compare(['replay:short', 'replay:tour'], 'hi', delay=0.002)"
)
COMPARE_AWAITED = "results = await grid\nprint('compare:', [r.text for r in results])"

# A notebook as people write it: show a widget in one cell, await it in a later one.
NOTEBOOK_CELLS = [
    PARAMETERS,
    "%load_ext llmwidgets",
    LLM,
    LLM_BOUND,
    f"{STREAM}\nw",
    STREAM_AWAITED,
    f"{CHAT}\nchat",
    CHAT_SENT,
    f"{COMPARE}\ngrid",
    COMPARE_AWAITED,
]
# Terminal IPython runs the event loop only while a cell awaits, so a widget streams in the cell
# that awaits it: each is made and awaited in one cell.
TERMINAL_CELLS = [
    PARAMETERS,
    "%load_ext llmwidgets",
    LLM,
    LLM_BOUND,
    f"{STREAM}\n{STREAM_AWAITED}",
    f"{CHAT}\n{CHAT_SENT}",
    f"{COMPARE}\n{COMPARE_AWAITED}",
]


def unwanted(name: str) -> bool:
    """Variables a fresh machine has not set: our config and mode, keys, a Voilà kernel's."""
    return name.startswith(("LLMWIDGETS_", "VOILA_")) or name in (
        "SERVER_SOFTWARE",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    )


def headless_env(tmp: Path) -> dict[str, str]:
    """A fresh machine's environment, with IPython's profile in `tmp`."""
    env = {name: value for name, value in os.environ.items() if not unwanted(name)}
    env["IPYTHONDIR"] = str(tmp / "ipython")
    return env


def readable(cell: nbformat.NotebookNode) -> str:
    """What a reader of the saved notebook sees in a cell without its widgets: printed text,
    HTML, markdown and plain text."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts.extend(data.get(kind, "") for kind in ("text/html", "text/markdown", "text/plain"))
    return "\n".join(parts)


def cell_holding(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    (cell,) = [c for c in nb.cells if c.source == source]
    return cell


# -- papermill ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def papermill_output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nbformat.NotebookNode]:
    """NOTEBOOK_CELLS run once by papermill, with `question` passed as a parameter."""
    import papermill

    tmp = tmp_path_factory.mktemp("papermill")
    nb = code_notebook(NOTEBOOK_CELLS)
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, tmp / "in.ipynb")
    with pytest.MonkeyPatch.context() as patch:
        for name in filter(unwanted, list(os.environ)):
            patch.delenv(name)
        patch.setenv("IPYTHONDIR", str(tmp / "ipython"))
        papermill.execute_notebook(
            str(tmp / "in.ipynb"),
            str(tmp / "out.ipynb"),
            parameters={"question": "Why use a list comprehension?"},
            kernel_name="python3",
            cwd=str(tmp),
            progress_bar=False,
            execution_timeout=60,
        )
    yield nbformat.read(tmp / "out.ipynb", as_version=4)


@pytest.mark.timeout(180)
def test_papermill_saves_each_answer_readable_in_the_cell_that_showed_it(
    papermill_output: nbformat.NotebookNode,
) -> None:
    for source in (LLM, f"{STREAM}\nw", f"{CHAT}\nchat", f"{COMPARE}\ngrid"):
        assert SHORT in readable(cell_holding(papermill_output, source)), source
    assert TOUR in readable(cell_holding(papermill_output, f"{COMPARE}\ngrid"))


@pytest.mark.timeout(180)
def test_papermill_leaves_no_widget_without_a_readable_copy_beside_it(
    papermill_output: nbformat.NotebookNode,
) -> None:
    for cell in papermill_output.cells:
        outputs = cell.get("outputs", [])
        if any(WIDGET_VIEW in out.get("data", {}) for out in outputs):
            copies = [out for out in outputs if out.get("data", {}).get("text/html")]
            assert copies, f"a widget with no HTML copy in {cell.source!r}"


@pytest.mark.timeout(180)
def test_papermill_hands_answers_to_later_cells(papermill_output: nbformat.NotebookNode) -> None:
    recording = load_recording("short")
    printed = {
        source: "".join(o.get("text", "") for o in cell_holding(papermill_output, source).outputs)
        for source in (LLM_BOUND, STREAM_AWAITED, CHAT_SENT, COMPARE_AWAITED)
    }
    assert printed[LLM_BOUND] == f"bound: {recording}\n"
    assert printed[STREAM_AWAITED] == f"awaited: {recording}\n"
    assert printed[CHAT_SENT] == f"chat: {recording}\n"
    assert printed[COMPARE_AWAITED].startswith(f"compare: [{recording!r}, ")


# -- terminal IPython --------------------------------------------------------------------------


def run_in_terminal_ipython(cells: list[str], tmp: Path, timeout: float = 60) -> str:
    """Run cells in a plain `ipython` process (cell by cell, as `ipython notebook.ipynb` does);
    returns what it printed. A hang fails the test at `timeout`."""
    nbformat.write(code_notebook(cells), tmp / "cells.ipynb")
    done = subprocess.run(
        [str(IPYTHON), "--no-banner", "--colors=NoColor", str(tmp / "cells.ipynb")],
        env=headless_env(tmp),
        cwd=tmp,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout


def test_terminal_ipython_prints_every_answer_and_exits(tmp_path: Path) -> None:
    recording = load_recording("short")
    printed = run_in_terminal_ipython(TERMINAL_CELLS, tmp_path)
    assert printed.startswith(recording)  # %%llm prints the answer itself
    assert f"bound: {recording}\n" in printed
    assert f"awaited: {recording}\n" in printed
    assert f"chat: {recording}\n" in printed
    assert f"compare: [{recording!r}, " in printed


def test_terminal_ipython_streams_a_widget_made_in_one_cell_and_awaited_in_the_next(
    tmp_path: Path,
) -> None:
    printed = run_in_terminal_ipython(["%load_ext llmwidgets", STREAM, STREAM_AWAITED], tmp_path)
    assert f"awaited: {load_recording('short')}\n" in printed
