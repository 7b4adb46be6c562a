"""Answers survive saving: a notebook executed headless by nbclient, saved, and exported to
markdown with nbconvert holds every answer, although no widget view ever rendered.

Also runs `notebooks/quickstart.ipynb` headless with no config file and no API keys, so it uses
the embedded offline model, and checks that every cell ran without error.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from llmwidgets._providers.replay import load_recording
from tests.support import ROOT, code_notebook, execute, saved_markdown

pytestmark = pytest.mark.kernel

QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
#: Lines of each recording that must reach the saved markdown.
SHORT_LINE = "squares = [n * n for n in range(10) if n % 2 == 0]"
TOUR_LINE_HTML = "Here is a short, reliable way to <strong>load a CSV file</strong>"


def build_notebook() -> nbformat.NotebookNode:
    cells = [
        "%load_ext llmwidgets",
        "%%llm replay:short -O delay=0 -o first\nExplain list comprehensions",
        "print('bound:', first.finish_reason, len(first.text))",
        "from llmwidgets import StreamWidget\n"
        "from IPython.display import display\n"
        "w = StreamWidget('replay:tour', 'Show me pandas', delay=0)\n"
        "display(w)\n"
        "_ = await w",
        "from llmwidgets import ChatWidget\n"
        "chat = ChatWidget('replay:short', delay=0)\n"
        "display(chat)\n"
        "_ = await chat.send('What is a list comprehension?')",
    ]
    return code_notebook(cells)


def test_every_answer_is_in_the_saved_notebook_exported_as_markdown(
    tmp_path: Path, clean_env: None
) -> None:
    nb = execute(build_notebook(), tmp_path)
    markdown = saved_markdown(nb, tmp_path / "answers.ipynb")

    magic, bound, widget = nb.cells[1], nb.cells[2], nb.cells[3]
    (saved,) = magic.outputs  # printed as it streamed, then replaced by one HTML copy
    assert SHORT_LINE in saved.data["text/html"]
    assert bound.outputs[0]["text"] == f"bound: stop {len(load_recording('short'))}\n"
    view, copy = [o for o in widget.outputs if o.output_type == "display_data"]
    assert view.data["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert TOUR_LINE_HTML in copy.data["text/html"]  # the end's update reached the saved copy

    assert SHORT_LINE in markdown
    assert TOUR_LINE_HTML in markdown
    assert "What is a list comprehension?" in markdown
    assert markdown.count(SHORT_LINE) == 2  # the magic's answer and the chat's


@pytest.mark.timeout(240)
def test_the_quickstart_notebook_runs_offline_without_errors(
    tmp_path: Path, clean_env: None
) -> None:
    nb = nbformat.read(QUICKSTART, as_version=4)
    os.environ.pop("LLMWIDGETS_CONFIG", None)
    execute(nb, tmp_path)  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert errors == []
    markdown = saved_markdown(nb, tmp_path / "quickstart.ipynb")
    assert "local:smollm2" in markdown  # resolve() said which model chatbot picked
