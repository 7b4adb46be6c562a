"""Runs the front end's own unit tests (node's test runner) as part of the one test command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_front_end_unit_tests_pass() -> None:
    if not (JS / "node_modules").is_dir():
        pytest.fail("js/node_modules is missing: run `npm --prefix js ci` (scripts/setup.sh does)")
    proc = subprocess.run(
        ["node", "--test", "test/"], cwd=JS, capture_output=True, text=True, timeout=300
    )
    summary = "\n".join(proc.stdout.splitlines()[-12:])
    assert proc.returncode == 0, (
        f"node --test failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    )
    assert "# fail 0" in proc.stdout, summary
    assert "# pass 0" not in proc.stdout, "node ran no test"
