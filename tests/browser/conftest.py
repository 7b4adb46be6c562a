"""Fixtures for browser tests: one JupyterLab server and one Chromium per session, a fresh
browser context (and kernel) per test.

Tests use `notebook(cells)` -> `LabPage` (see `lab.py`); screenshots go to `test-artifacts/`,
and a failing test leaves `test-artifacts/FAILED-<test>.png` behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from .lab import CHROMIUM, CHROMIUM_ARGS, LabPage, LabServer, start_lab, watched_page

# Session-wide environment for the Lab server and so for every kernel it starts. Kernels take
# the server's environment at kernel start, so per-test variables go in a cell instead
# (`lab.env_cell`). Fake keys: the SDKs refuse to build a client without one.
LAB_ENV: dict[str, str] = {
    "OPENAI_API_KEY": "sk-test-browser",
    "ANTHROPIC_API_KEY": "sk-ant-test-browser",
}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item, so fixtures can tell that a test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def lab_env() -> dict[str, str]:
    """Extra environment for the Lab server and its kernels (override to add variables)."""
    return dict(LAB_ENV)


@pytest.fixture(scope="session")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, lab_env: dict[str, str]
) -> Iterator[LabServer]:
    """A JupyterLab on 127.0.0.1 with all Jupyter state in a temp folder."""
    server = start_lab(tmp_path_factory.mktemp("jupyter"), lab_env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's sync driver (a node process), once per session."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright cannot download its own browsers here)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium to run browser tests"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message} (CI is set: browser tests must run, not skip)")
        pytest.skip(message)
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def lab_page(
    request: pytest.FixtureRequest, chromium: Browser, lab_server: LabServer
) -> Iterator[LabPage]:
    """A fresh browser context on the Lab server (`watched_page`: a failing test leaves its
    screenshot, console and the server's log); kernels are shut down after the test."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page: LabPage | None = None
    try:
        with watched_page(chromium, request, lab_server, safe) as raw:
            page = LabPage(raw, lab_server)
            yield page
    finally:
        lab_server.shutdown_sessions()
        if page is not None and page.theme_changed:
            lab_server.reset_theme()


@pytest.fixture
def frontend(request: pytest.FixtureRequest) -> str:
    """The UI `notebook()` opens by default: "lab", or each of `FRONTENDS` in a test marked
    `@both_frontends` (lab.py)."""
    return str(getattr(request, "param", "lab"))


@pytest.fixture
def notebook(
    lab_page: LabPage, request: pytest.FixtureRequest, frontend: str
) -> Callable[..., LabPage]:
    """`notebook(cells, name=None, frontend=<the frontend fixture>)`: write a notebook of code
    cells, open it in JupyterLab (or Notebook 7 with `frontend="notebook"`), wait for its
    kernel."""
    default_frontend = frontend

    def open_notebook(
        cells: list[str], name: str | None = None, frontend: str = default_frontend
    ) -> LabPage:
        stem = name or re.sub(r"[^A-Za-z0-9_]+", "_", request.node.name)
        path = lab_page.lab.put_notebook(stem, cells)
        return lab_page.open(path, frontend=frontend)

    return open_notebook


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """`test-artifacts/` at the repo root (gitignored), created on demand."""
    from .lab import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
