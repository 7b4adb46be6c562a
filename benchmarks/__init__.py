"""Benchmarks for llmwidgets: each figure is a ratio against a naive baseline measured in the same run.

Not tests: nothing here asserts. `python -m benchmarks` runs every figure, `python -m benchmarks
wire kernel` runs some; results are printed as a table and written to
`benchmarks/results/latest.json`. See `benchmarks/README.md` for what each figure means.

This module holds what the figures share: the result row, the loopback wire server run as a
separate process (so `time.process_time()` measures only the client), the recording comm
installed without pytest (so `StreamWidget` runs its real code with no front end attached), and
fake API keys. Importing it changes nothing but `sys.path`: the keys and the comm are context
managers (`fake_api_keys()`, `recording_comms()`) that the runner and the figures enter.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
if str(REPO_ROOT) not in sys.path:  # `tests.wire_server`, `tests.recording_comm`
    sys.path.insert(0, str(REPO_ROOT))

#: The SDKs refuse to build a client without a key; the loopback server ignores it.
FAKE_API_KEYS = {
    "OPENAI_API_KEY": "sk-bench-0000000000",
    "ANTHROPIC_API_KEY": "sk-ant-bench-0000000000",
}


@dataclass
class Row:
    """One line of the results table: our value, the same-run baseline, their ratio, the goal.

    `ratio` is ours / baseline unless the figure says otherwise; `met` is informational.
    """

    figure: str
    case: str
    ours: float | None
    baseline: float | None
    ratio: float | None
    goal: str
    met: bool | None
    unit: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ratio(ours: float | None, baseline: float | None) -> float | None:
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


# --------------------------------------------------------------------------- wire server


class WireProcess:
    """`tests/wire_server.py` in its own process, driven over its /control endpoints."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.openai_base_url = ""

    def start(self, timeout: float = 20) -> WireProcess:
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "tests" / "wire_server.py"), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = ""
        while not line and time.monotonic() < deadline:
            line = self.process.stdout.readline()
        info = json.loads(line)
        self.url = info["url"]
        self.openai_base_url = info["openai_base_url"]
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def __enter__(self) -> WireProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, method: str, path: str, body: bytes | None = None) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", data=body, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def add_text(self, name: str, text: str) -> None:
        self._call("PUT", f"/control/texts/{name}", text.encode())

    def add_scenario(self, name: str, scenario: dict[str, Any]) -> str:
        return str(
            self._call("PUT", f"/control/scenarios/{name}", json.dumps(scenario).encode())["model"]
        )

    def reset(self) -> None:
        self._call("POST", "/control/reset")

    def disconnects(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/control/disconnects"))

    @staticmethod
    def text_model(name: str, chunk: int = 4, delay: float = 0.0, repeat: int = 1) -> str:
        return f"text:{name}?chunk={chunk}&delay={delay}&repeat={repeat}"


# --------------------------------------------------------------------------- environment


@contextlib.contextmanager
def fake_api_keys() -> Iterator[None]:
    """Set each of `FAKE_API_KEYS` that is unset, for the block; unset them again afterwards.

    The runner (`python -m benchmarks`) runs each figure inside; kernels and servers a figure
    starts inherit the keys. Importing `benchmarks` sets nothing.
    """
    added = [name for name in FAKE_API_KEYS if name not in os.environ]
    os.environ.update({name: FAKE_API_KEYS[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


# --------------------------------------------------------------------------- comms


@contextlib.contextmanager
def recording_comms() -> Iterator[list[Any]]:
    """Make every widget created inside get a `RecordingComm` (transport only; no view attached).

    Yields a list of weak references to the comms created, in order (weak, so that recording
    keeps no widget alive: the soak figure counts live widgets).
    """
    import weakref

    import comm

    from tests.recording_comm import RecordingComm

    created: list[Any] = []
    original = comm.create_comm

    def create(*args: Any, **kwargs: Any) -> RecordingComm:
        c = RecordingComm(*args, **kwargs)
        created.append(weakref.ref(c))
        return c

    comm.create_comm = create
    try:
        yield created
    finally:
        comm.create_comm = original


def json_size(data: Any) -> int:
    """Bytes of `data` as compact JSON with raw UTF-8, roughly what travels on the websocket."""
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value != 0 and (abs(value) >= 10_000 or abs(value) < 0.001):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:,.{max(0, digits - 1)}f}"
