"""The example notebooks run headless (nbclient), offline and keyless, so they cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.support import ROOT, execute, saved_markdown

pytestmark = pytest.mark.kernel


def run(name: str, tmp_path: Path) -> tuple[nbformat.NotebookNode, str]:
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    execute(nb, tmp_path)  # raises CellExecutionError on the first failing cell
    return nb, saved_markdown(nb, tmp_path / name)


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(parts)


@pytest.mark.timeout(240)
def test_the_providers_notebook_explains_each_missing_provider(tmp_path: Path, clean_env: None):
    nb, _ = run("providers.ipynb", tmp_path)
    text = outputs_text(nb)
    assert "openai:gpt-4o-mini: AuthenticationError" in text and "OPENAI_API_KEY" in text
    assert "anthropic:claude-haiku-4-5: AuthenticationError" in text
    assert "ANTHROPIC_API_KEY" in text
    assert "ollama:llama3.2: ProviderError" in text
    assert "replay:short" in text  # the alias fell back to its recording before any chunk


@pytest.mark.timeout(240)
def test_the_compare_notebook_runs_offline_and_tabulates(tmp_path: Path, clean_env: None):
    nb, markdown = run("compare.ipynb", tmp_path)
    text = outputs_text(nb)
    assert "Tokens/s" in text and "Finish" in text  # grid.table(), shown as a table
    grid_outputs = nb.cells[1].outputs  # the saved copy, exported:
    assert '<h2 class="jp-toc-ignore">Summary</h2>' in markdown, grid_outputs


@pytest.mark.timeout(240)
def test_the_tools_notebook_runs_a_tool_loop_offline(tmp_path: Path, clean_env: None):
    nb, markdown = run("tools.ipynb", tmp_path)
    text = outputs_text(nb)
    assert "18 degrees celsius in Paris" in text and "7 degrees celsius in Oslo" in text
    assert "The user declined this call." in text  # approve= refused Oslo
    # Every call is in the saved copies: two widgets and the magic's answer, two calls each.
    assert markdown.count("<strong>Tool</strong> <code>get_weather</code>") == 6


@pytest.mark.timeout(240)
def test_the_structured_notebook_validates_a_recorded_object_offline(
    tmp_path: Path, clean_env: None
):
    nb, markdown = run("structured.ipynb", tmp_path)
    text = outputs_text(nb)
    assert "[('Kyoto', 2), ('Nara', 1)]" in text
    assert "('Three unhurried days in Kansai', 140)" in text
    assert "&quot;highlights&quot;" in markdown or '"highlights"' in markdown  # the saved copy


@pytest.mark.timeout(240)
def test_the_objects_notebook_sends_a_table_and_a_figure_offline(tmp_path: Path, clean_env: None):
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")
    nb, _ = run("objects.ipynb", tmp_path)
    assert "['table', 'image']" in outputs_text(nb)
