"""A real JupyterLab server and a Playwright page driving it, for browser tests.

Why a helper of our own: the tests need a Lab whose whole state lives in a temp folder, whose
kernels run this venv's Python (so `llmwidgets` imports), and a few waits that the Lab UI alone
gets wrong (the kernel indicator reads "idle" about a second before the kernel takes work, so we
also ask the server's REST API).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VENV_BIN = Path(sys.executable).parent
DARK_THEME = "JupyterLab Dark"
LIGHT_THEME = "JupyterLab Light"
#: The notebook UIs one Jupyter server serves: JupyterLab and Notebook 7.
FRONTENDS = ("lab", "notebook")
#: Runs a test in both UIs: its `notebook()` opens JupyterLab, then Notebook 7 (the `frontend`
#: fixture, which `notebook` reads, is parametrised).
both_frontends = pytest.mark.parametrize("frontend", FRONTENDS, indirect=True)


class LabError(RuntimeError):
    """The Lab server or page did not reach the state a test waits for."""


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; raise LabError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (requests.RequestException, LabError, KeyError, ValueError) as exc:
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise LabError(
        f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for servers that cannot pick their own)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A front end's server (JupyterLab, Voilà, marimo) in its own process group, logging to a
    file."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's own process group (its kernels too), then SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_server(
    cmd: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    url: str,
    health_url: str,
    timeout: float = 60,
) -> subprocess.Popen[bytes]:
    """Start `cmd` in a new process group and wait until `health_url` answers (`timeout` s); a
    server that exits first is an error quoting its log. The caller stops it
    (`ServerProcess.stop`)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    server = ServerProcess(process, url, log_path)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {process.returncode}: {server.log_tail()}")
        return requests.get(health_url, timeout=2).ok

    try:
        wait_until(up, timeout, f"{Path(cmd[0]).name} to answer on its port")
    except BaseException:
        server.stop()
        raise
    return process


@contextmanager
def watched_page(
    chromium: Browser, request: pytest.FixtureRequest, server: ServerProcess, failed_name: str
) -> Iterator[Page]:
    """A fresh browser context and page; when the test fails, a screenshot, the console (with
    uncaught errors) and the server's log are kept. Closing the context ends the page's kernel."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{failed_name}.png"))
            except Exception:  # a dead page must not hide the real failure
                pass
            print("--- browser console ---\n" + "\n".join(console[-50:]))
            print("--- server log ---\n" + server.log_tail())
        context.close()


def luminance(css_color: str) -> float:
    """Relative luminance (0 black .. 1 white) of a computed `rgb()`/`rgba()` colour."""
    parts = css_color[css_color.index("(") + 1 : css_color.index(")")].split(",")
    red, green, blue = (float(part) / 255 for part in parts[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def code_cell(source: str) -> dict[str, Any]:
    """A notebook code cell in nbformat 4 JSON."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": uuid.uuid4().hex[:8],
        "metadata": {},
        "outputs": [],
        "source": source,
    }


def notebook_json(cells: Iterable[str]) -> dict[str, Any]:
    """An nbformat 4.5 notebook of code cells bound to the venv's `python3` kernel (no picker)."""
    return {
        "cells": [code_cell(source) for source in cells],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def env_cell(env: Mapping[str, str]) -> str:
    """Cell source that sets environment variables inside the kernel (per-notebook env)."""
    return f"import os\nos.environ.update({dict(env)!r})"


@dataclass
class LabServer(ServerProcess):
    """A running `jupyter lab` whose config, data, runtime and notebooks live under `home`."""

    token: str
    root_dir: Path
    home: Path
    http: requests.Session = field(default_factory=requests.Session)

    # ---- REST -----------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One authenticated REST call; raises on HTTP errors."""
        kwargs.setdefault("timeout", 10)
        response = self.http.request(
            method,
            f"{self.url}{path}",
            headers={"Authorization": f"token {self.token}"},
            **kwargs,
        )
        response.raise_for_status()
        return response

    def put_notebook(self, name: str, cells: Iterable[str]) -> str:
        """Write a notebook of code cells through the contents API; returns its path."""
        path = name if name.endswith(".ipynb") else f"{name}.ipynb"
        self.api(
            "PUT",
            f"/api/contents/{path}",
            json={"type": "notebook", "format": "json", "content": notebook_json(cells)},
        )
        return path

    def sessions(self) -> list[dict[str, Any]]:
        """The server's kernel sessions (one per open notebook)."""
        return list(self.api("GET", "/api/sessions").json())

    def kernel_id_for(self, notebook_path: str) -> str | None:
        """The id of the kernel bound to a notebook, if the page has started one."""
        for session in self.sessions():
            if session.get("path") == notebook_path and session.get("kernel"):
                return str(session["kernel"]["id"])
        return None

    def kernel_model(self, kernel_id: str) -> dict[str, Any]:
        """`GET /api/kernels/<id>`: execution_state, connections, ..."""
        return dict(self.api("GET", f"/api/kernels/{kernel_id}").json())

    def wait_kernel_idle(self, notebook_path: str, timeout: float = 60) -> str:
        """Wait until the notebook's kernel is started, has a websocket and is idle.

        `GET /api/kernels` answers HTTP 500 now and then while a kernel starts: `wait_until`
        retries it.
        """

        def ready() -> str | None:
            kernel_id = self.kernel_id_for(notebook_path)
            if kernel_id is None:
                return None
            model = self.kernel_model(kernel_id)
            if model.get("connections", 0) >= 1 and model.get("execution_state") == "idle":
                return kernel_id
            return None

        return str(wait_until(ready, timeout, f"an idle, connected kernel for {notebook_path}"))

    def shutdown_sessions(self) -> None:
        """Stop every kernel, so one test's kernel does not run into the next test."""
        for session in self.sessions():
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except requests.RequestException:
                pass

    def reset_theme(self) -> None:
        """Forget the theme setting (it is server-side, so it outlives a browser context)."""
        self.api(
            "PUT",
            "/lab/api/settings/@jupyterlab/apputils-extension:themes",
            json={"raw": "{}"},
        )

    def stop(self, timeout: float = 10) -> None:
        """`POST /api/shutdown` (kernels end cleanly), then the process group is stopped if the
        server lingers."""
        if self.process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
            except requests.RequestException:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        super().stop()
        self.http.close()


def jupyter_env(home: Path, extra_env: Mapping[str, str]) -> dict[str, str]:
    """Environment for the server and so for every kernel it starts (kernels inherit it)."""
    env = dict(os.environ)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    env.update(extra_env)
    for sub in ("config", "data", "runtime", "ipython", "root"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return env


#: The Lab extension whose "news" pop-up would cover the notebook.
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"


def start_lab(
    home: Path, extra_env: Mapping[str, str] | None = None, timeout: float = 60
) -> LabServer:
    """Start JupyterLab on 127.0.0.1 with all state under `home`."""
    env = jupyter_env(home, extra_env or {})
    jupyter = str(VENV_BIN / "jupyter")
    # The "news" pop-up would cover the notebook: disable it in the temp config dir
    # (`--level=user`: the default level in a venv is sys-prefix, i.e. the venv's own etc/).
    # Lab reads page_config.json on every page request, so this ~5 s command runs while the
    # server starts, and is awaited before the first page opens.
    disable_news = subprocess.Popen(
        [jupyter, "labextension", "disable", "--level=user", ANNOUNCEMENTS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    token = secrets.token_hex(16)
    root_dir = home / "root"
    log_path = home / "lab.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        process = start_server(
            [jupyter, "lab", *_lab_options(port, root_dir, token)],
            env=env,
            cwd=root_dir,
            log_path=log_path,
            url=url,
            health_url=f"{url}/api/status?token={token}",
            timeout=timeout,
        )
    except BaseException:
        disable_news.kill()
        raise
    server = LabServer(process, url, log_path, token=token, root_dir=root_dir, home=home)
    try:
        _, stderr = disable_news.communicate(timeout=timeout)
        if disable_news.returncode != 0:
            raise LabError(f"labextension disable failed: {stderr.decode(errors='replace')}")
        if not (home / "config" / "labconfig" / "page_config.json").exists():
            raise LabError("labextension disable wrote outside the temp JUPYTER_CONFIG_DIR")
    except (LabError, subprocess.TimeoutExpired) as exc:
        disable_news.kill()
        server.stop()
        raise LabError(f"{exc}\n--- lab log ---\n{server.log_tail()}") from exc
    return server


def _lab_options(port: int, root_dir: Path, token: str) -> list[str]:
    """`jupyter lab` on one loopback port, no browser, state under the temp root."""
    return [
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        # window.jupyterapp: lets tests run Lab commands instead of hunting menus.
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LanguageServerManager.autodetect=False",
    ]


@dataclass
class LabPage:
    """A Playwright page showing one notebook in Lab, with the waits the tests need."""

    page: Page
    lab: LabServer
    notebook_path: str = ""
    kernel_id: str = ""
    theme_changed: bool = False
    frontend: str = "lab"

    def __post_init__(self) -> None:
        """Answer "Leave page with unsaved changes?" (asked on reload) with leave."""
        self.page.on("dialog", lambda dialog: dialog.accept())

    # ---- navigation ---------------------------------------------------------------------
    def open(self, notebook_path: str, timeout: float = 60, frontend: str = "lab") -> LabPage:
        """Open a notebook and wait until its kernel really takes work.

        `frontend`: "lab" (JupyterLab, in a fresh workspace) or "notebook" (Notebook 7, served
        by the same server; both expose `window.jupyterapp` and share the commands we run).
        """
        self.notebook_path = notebook_path
        self.frontend = frontend
        if frontend == "notebook":
            url = f"{self.lab.url}/notebooks/{notebook_path}?token={self.lab.token}"
        else:
            workspace = uuid.uuid4().hex[:12]
            url = f"{self.lab.url}/lab/workspaces/{workspace}/tree/{notebook_path}"
            url += f"?token={self.lab.token}"
        self.page.goto(url)
        self.wait_notebook_ready(timeout)
        return self

    def reload(self, timeout: float = 60) -> None:
        """Reload the browser tab (same workspace, same notebook, same kernel)."""
        self.page.reload()
        self.wait_notebook_ready(timeout)

    def wait_notebook_ready(self, timeout: float = 60) -> None:
        """Wait for the notebook panel, the app object, and an idle kernel (UI and REST)."""
        ms = timeout * 1000
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell"
            " && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
            ".connectionStatus === 'connected'",
            timeout=ms,
        )
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=ms)
        self.page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=ms)
        self.kernel_id = self.lab.wait_kernel_idle(self.notebook_path, timeout)

    # ---- commands -----------------------------------------------------------------------
    def command(self, name: str, args: Mapping[str, Any] | None = None) -> Any:
        """Run a JupyterLab command by id (e.g. `notebook:run-all-cells`) and await it."""
        return self.page.evaluate(
            "([name, args]) => window.jupyterapp.commands.execute(name, args)",
            [name, dict(args or {})],
        )

    def cell(self, index: int) -> Locator:
        """The notebook cell at `index` (0-based)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def output(self, index: int) -> Locator:
        """The output area of cell `index`."""
        return self.cell(index).locator(".jp-OutputArea")

    def run_cell(self, index: int) -> None:
        """Make cell `index` active and run it (the Shift+Enter command, without moving on)."""
        self.page.evaluate(
            "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", index
        )
        self.command("notebook:run-cell")

    def run_all(self) -> None:
        """Run every cell, as the Run > Run All Cells menu does."""
        self.command("notebook:run-all-cells")

    def wait_output(self, index: int, selector: str, timeout: float = 30) -> Locator:
        """Wait until cell `index`'s output holds a visible element matching `selector`."""
        found = self.output(index).locator(selector).first
        try:
            found.wait_for(state="visible", timeout=timeout * 1000)
        except Exception as exc:
            text = self.output(index).inner_text(timeout=1000) if self.output(index).count() else ""
            raise LabError(
                f"cell {index} output never showed {selector!r}; output text: {text!r}"
            ) from exc
        return found

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until the kernel has finished all queued cells (REST execution_state)."""
        wait_until(
            lambda: self.lab.kernel_model(self.kernel_id).get("execution_state") == "idle",
            timeout,
            "the kernel to become idle",
        )

    # ---- looks --------------------------------------------------------------------------
    def set_theme(self, theme: str = DARK_THEME, timeout: float = 20) -> None:
        """Switch Lab's theme with `apputils:change-theme` and wait until it is applied."""
        light = "false" if "Dark" in theme else "true"
        self.theme_changed = True
        self.command("apputils:change-theme", {"theme": theme})
        self.page.wait_for_function(
            "(light) => document.body.dataset.jpThemeLight === light"
            " && document.body.dataset.jpThemeName",
            arg=light,
            timeout=timeout * 1000,
        )
        self.page.wait_for_function(
            "(name) => document.body.dataset.jpThemeName === name",
            arg=theme,
            timeout=timeout * 1000,
        )
        # Lab shows its splash screen while the new theme's CSS loads.
        self.page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=timeout * 1000)

    def screenshot(self, name: str, locator: Locator | None = None) -> Path:
        """Save a PNG into `test-artifacts/` (the page, or just `locator`); returns its path.

        Notebook 7's get a `-notebook` suffix, so they do not overwrite JupyterLab's.
        """
        ARTIFACTS.mkdir(exist_ok=True)
        name = name.removesuffix(".png")
        if self.frontend != "lab":
            name = f"{name}-{self.frontend}"
        path = ARTIFACTS / f"{name}.png"
        if locator is None:
            self.page.screenshot(path=str(path))
            return path
        # The notebook scrolls inside its own panel, so an output taller than the window is
        # cut off at the window's bottom: grow the window to fit it for the picture.
        size = self.page.viewport_size
        box = locator.bounding_box()
        tall = size is not None and box is not None and box["height"] + 200 > size["height"]
        if tall:
            height = min(int(box["height"]) + 200, 6000)
            self.page.set_viewport_size({"width": size["width"], "height": height})
        try:
            locator.screenshot(path=str(path))
        finally:
            if tall:
                self.page.set_viewport_size(size)
        return path
