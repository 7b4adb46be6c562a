"""Packaging: every way of building llmwidgets gives a package with its front end.

Each build starts from a clean copy of the repository (the files git tracks, plus new files not
yet committed), as a fresh clone has them: no src/llmwidgets/static/, no js/node_modules.

- `pip wheel` of the copy (what `pip install .` and `pip install git+...` do) runs the npm build
  and the wheel carries the bundle and py.typed;
- the sdist built next skips npm (the bundle is fresh) and carries the bundle;
- a wheel built from that sdist with no Node on PATH still carries it;
- a copy with no bundle and no Node fails to build, saying what to do.

The builds are shared with tests/browser/test_installed_wheel.py (`built_dists`), which installs
the sdist's wheel into a fresh venv and shows a widget in JupyterLab.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib

# The first test to ask for `built_dists` waits for all three builds (~40 s, npm ci the most).
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[1]
BUNDLE = ["stream.js", "stream.css", "loader.js"]
NO_NODE_MESSAGE = "npm (Node.js >= 20) is not on PATH"
UP_TO_DATE_MESSAGE = "front-end bundle is up to date"


@dataclass
class Dists:
    """What `built_dists` built, and how long each step took (seconds)."""

    wheel: Path  # pip wheel of the clean copy (ran npm)
    sdist: Path  # python -m build --sdist of the same copy (bundle fresh: no npm)
    wheel_from_sdist: Path  # pip wheel of the sdist, no Node on PATH
    sdist_log: str
    seconds: dict[str, float] = field(default_factory=dict)


def clean_copy(dest: Path) -> Path:
    """Copy the files a clone would have (tracked, plus untracked files not ignored) to `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        source = REPO / os.fsdecode(raw)
        if not source.is_file():  # deleted in the work tree, or a submodule
            continue
        target = dest / os.fsdecode(raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    assert not (dest / "src" / "llmwidgets" / "static").exists()
    return dest


def no_node_env(bin_dir: Path) -> dict[str, str]:
    """The environment with PATH reduced to a folder holding only `python`: no node, no npm."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    python = bin_dir / "python"
    if not python.exists():
        python.symlink_to(sys.executable)
    path = str(bin_dir)
    assert shutil.which("node", path=path) is None
    assert shutil.which("npm", path=path) is None
    return {**os.environ, "PATH": path, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a build command; its combined output, or a failure that shows it."""
    done = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-6000:]}")
    return done.stdout


def pip_wheel(source: Path, out: Path) -> list[str]:
    """`pip wheel` of a source tree or sdist, as `pip install` builds it (isolated build env)."""
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(source)]


@functools.cache
def built_dists() -> Dists:
    """Build once per test session: wheel and sdist from a clean copy, a wheel from the sdist."""
    if shutil.which("npm") is None:
        pytest.fail("npm is not on PATH: the packaging tests build the front end from a clean copy")
    work = Path(tempfile.mkdtemp(prefix="llmw-packaging-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    copy = clean_copy(work / "repo")
    seconds: dict[str, float] = {}

    started = time.monotonic()
    run(pip_wheel(copy, work / "wheel"), cwd=work)
    seconds["wheel from clean copy (npm ci + build)"] = time.monotonic() - started

    started = time.monotonic()
    sdist_log = run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(work / "sdist"), str(copy)],
        cwd=work,
    )
    seconds["sdist (bundle fresh)"] = time.monotonic() - started

    (sdist,) = (work / "sdist").glob("llmwidgets-*.tar.gz")
    started = time.monotonic()
    run(pip_wheel(sdist, work / "from-sdist"), cwd=work, env=no_node_env(work / "no-node-bin"))
    seconds["wheel from sdist (no Node)"] = time.monotonic() - started

    (wheel,) = (work / "wheel").glob("llmwidgets-*.whl")
    (wheel_from_sdist,) = (work / "from-sdist").glob("llmwidgets-*.whl")
    return Dists(wheel, sdist, wheel_from_sdist, sdist_log, seconds)


def wheel_files(wheel: Path) -> dict[str, int]:
    with zipfile.ZipFile(wheel) as archive:
        return {info.filename: info.file_size for info in archive.infolist()}


def pyproject_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def assert_bundle_in_wheel(wheel: Path) -> None:
    files = wheel_files(wheel)
    for name in BUNDLE:
        assert files.get(f"llmwidgets/static/{name}", 0) > 0, f"{wheel.name} lacks static/{name}"
    assert "llmwidgets/py.typed" in files
    assert "llmwidgets/recordings/short.md" in files
    assert not any(name.startswith(("js/", "tests/")) for name in files)
    assert wheel.name.startswith(f"llmwidgets-{pyproject_version()}-")


def test_wheel_from_a_clean_copy_builds_and_carries_the_front_end() -> None:
    dists = built_dists()
    print(", ".join(f"{step}: {seconds:.1f} s" for step, seconds in dists.seconds.items()))
    assert_bundle_in_wheel(dists.wheel)
    with zipfile.ZipFile(dists.wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    for line in (
        "Classifier: Framework :: Jupyter :: JupyterLab",
        "Classifier: Typing :: Typed",
        "License-File: LICENSE",
        "Provides-Extra: offline",
        "Provides-Extra: all",
    ):
        assert line in text.splitlines(), line


def test_sdist_carries_the_built_bundle_and_skips_a_fresh_build() -> None:
    dists = built_dists()
    assert UP_TO_DATE_MESSAGE in dists.sdist_log
    assert "npm ci" not in dists.sdist_log
    with tarfile.open(dists.sdist) as archive:
        names = {member.name.split("/", 1)[1] for member in archive.getmembers()}
    for name in BUNDLE:
        assert f"src/llmwidgets/static/{name}" in names
    assert "build_frontend.py" in names
    assert "js/package-lock.json" in names
    assert not any(name.startswith("js/node_modules") for name in names)


def test_wheel_from_the_sdist_needs_no_node() -> None:
    dists = built_dists()
    assert_bundle_in_wheel(dists.wheel_from_sdist)
    with zipfile.ZipFile(dists.wheel) as a, zipfile.ZipFile(dists.wheel_from_sdist) as b:
        for name in BUNDLE:
            path = f"llmwidgets/static/{name}"
            assert a.read(path) == b.read(path), f"{name} differs between the two wheels"


def test_no_node_and_no_bundle_fails_the_build_saying_what_to_do(tmp_path: Path) -> None:
    copy = clean_copy(tmp_path / "repo")
    done = subprocess.run(
        pip_wheel(copy, tmp_path / "out"),
        cwd=tmp_path,
        env=no_node_env(tmp_path / "no-node-bin"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert done.returncode != 0, done.stdout[-3000:]
    assert NO_NODE_MESSAGE in done.stdout, done.stdout[-3000:]
    assert "pip install llmwidgets" in done.stdout
    assert not list(tmp_path.glob("out/*.whl"))
