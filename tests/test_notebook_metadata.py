"""The example notebooks open straight into a kernel: no "Select Kernel" dialog first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
PYTHON3 = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def test_there_are_notebooks_to_check() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_names_the_standard_python3_kernel(path: Path) -> None:
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert metadata.get("kernelspec") == PYTHON3
