"""The example notebooks as a new user meets them: they open straight into a kernel (no "Select
Kernel" dialog), and the quickstart's answers end on their own rather than mid-sentence."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import llmwidgets
from llmwidgets._magics import parse_call
from llmwidgets._providers.local import INSTALL_HINT, offline_available

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
PYTHON3 = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def code_cells(name: str) -> list[str]:
    (path,) = [p for p in NOTEBOOKS if p.name == name]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_there_are_notebooks_to_check() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_names_the_standard_python3_kernel(path: Path) -> None:
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("kernelspec") == PYTHON3


@pytest.mark.skipif(not offline_available(), reason=f"needs: {INSTALL_HINT}")
@pytest.mark.timeout(300)
async def test_the_quickstart_magics_leave_the_offline_model_room_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quickstart runs on SmolLM2 where no key is set; a `-m` below its answer's length
    ends the answer mid-sentence (finish reason `length`)."""
    monkeypatch.chdir(tmp_path)  # no llmwidgets.toml
    shell = SimpleNamespace(user_ns={"language": "Python"})
    calls = []
    for source in code_cells("quickstart.ipynb"):
        head, _, body = source.partition("\n")
        if head.startswith("%%llm"):
            calls.append(parse_call(shell, head.removeprefix("%%llm"), body))
        elif head.startswith("%llm"):
            calls.append(parse_call(shell, head.removeprefix("%llm"), None))
    assert len(calls) == 3
    for call in calls:
        r = await llmwidgets.complete("local:smollm2", call.prompt, max_tokens=call.max_tokens)
        assert r.finish_reason == "stop", (call.prompt, call.max_tokens, r.text)
