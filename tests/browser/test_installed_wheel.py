"""The wheel a user gets, installed with no Node anywhere, shows a formatted StreamWidget in Lab.

The wheel is the one built from the sdist without Node (tests/test_packaging.py: `built_dists`).
It goes into a fresh venv (with ipykernel, nothing from this checkout) whose PATH holds no node or
npm; a kernelspec points the session's JupyterLab at that venv's Python, so the widget's front end
comes from the installed wheel, not from src/llmwidgets/static/ here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_packaging import built_dists, no_node_env

from .lab import LabPage, LabServer, notebook_json

pytestmark = [pytest.mark.browser, pytest.mark.packaging]

KERNEL = "llmwidgets-wheel"
CHECK = (
    "import shutil, sys, llmwidgets\n"
    "print('module', llmwidgets.__file__)\n"
    "print('python', sys.executable)\n"
    "print('node', shutil.which('node'), shutil.which('npm'))"
)
WIDGET = "from llmwidgets import StreamWidget\nStreamWidget('replay:short', 'hi')"


def install_wheel(wheel: Path, venv: Path, env: dict[str, str]) -> Path:
    """A venv (no pip of its own: this venv's pip installs into it) with the wheel and ipykernel."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    done = subprocess.run(
        [*pip, "install", "-q", str(wheel), "ipykernel"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    return python


def add_kernelspec(lab: LabServer, python: Path, path: str) -> None:
    """A kernelspec in the Lab's temp data dir running `python`, with PATH = `path` (no Node)."""
    spec = lab.home / "data" / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "llmwidgets (installed wheel)",
                "language": "python",
                "env": {"PATH": path},
            }
        )
    )


@pytest.mark.timeout(300)
def test_installed_wheel_without_node_renders_formatted_text(
    lab_page: LabPage, lab_server: LabServer, tmp_path: Path
) -> None:
    dists = built_dists()
    env = no_node_env(tmp_path / "no-node-bin")
    started = time.monotonic()
    venv = tmp_path / "venv"
    python = install_wheel(dists.wheel_from_sdist, venv, env)
    print(f"venv with the wheel and ipykernel: {time.monotonic() - started:.1f} s")
    add_kernelspec(lab_server, python, env["PATH"])

    content = notebook_json([CHECK, WIDGET])
    content["metadata"]["kernelspec"] = {
        "display_name": "llmwidgets (installed wheel)",
        "language": "python",
        "name": KERNEL,
    }
    path = "installed_wheel.ipynb"
    lab_server.api(
        "PUT",
        f"/api/contents/{path}",
        json={"type": "notebook", "format": "json", "content": content},
    )
    page = lab_page.open(path)
    page.run_all()

    checked = page.wait_output(0, ".jp-OutputArea-output").inner_text()
    assert f"module {venv}/lib/" in checked, checked
    assert f"python {venv}/bin/python" in checked, checked
    assert "node None None" in checked, checked

    # The code block comes after the bold phrase; while `**list comp` is still
    # arriving the view already shows it bold, so the phrase is counted only
    # once the code block is drawn.
    page.wait_output(1, ".llmw-stream .llmw-body pre code", timeout=60)
    body = page.output(1).locator(".llmw-stream .llmw-body")
    body.locator("pre code", has_text="squares").first.wait_for(timeout=30_000)
    assert body.locator("strong", has_text="list comprehension").count() == 1
    assert "not built" not in page.output(1).inner_text()
    page.screenshot("installed-wheel-stream", page.output(1))
