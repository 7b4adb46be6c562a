"""Every shared fixture, registered here once; plain helpers live in `support.py`.

`wire_server` is a real HTTP server on 127.0.0.1 speaking both APIs' wire formats; `fake` is an
in-process provider for tests that are not about HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import comm
import pytest
from kernel_client import Kernel
from wire_server import WireServer

from llmwidgets._providers.base import register_provider
from tests.recording_comm import CommRecorder, RecordingComm
from tests.support import FAKE, FakeProvider

#: A recognisable fake key: tests assert it never shows up in an error message.
FAKE_KEY = "sk-test-SECRET123456"


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A fresh server per test (starting one takes milliseconds), stopped afterwards."""
    with WireServer() as server:
        yield server


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    """`fake:<name>` models answering in-process, scripted by `fake.model(name, text, ...)`: for
    tests about widgets and the magic rather than the wire (no server, no SDK, no key)."""
    register_provider("fake", lambda config: FAKE)
    FAKE.reset()
    yield FAKE
    FAKE.reset()


@pytest.fixture
def fake_api_keys(monkeypatch: pytest.MonkeyPatch) -> str:
    """OPENAI_API_KEY, ANTHROPIC_API_KEY and GEMINI_API_KEY set to FAKE_KEY for this test
    (GOOGLE_API_KEY unset: Google's SDK would prefer it)."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    return FAKE_KEY


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """OPENAI_API_KEY set to FAKE_KEY for this test (the SDK builds no client without one)."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    return FAKE_KEY


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No config file, no keys, no forced mode: what a fresh machine running nbconvert has."""
    for name in (
        "LLMWIDGETS_CONFIG",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "LLMWIDGETS_HEADLESS",
    ):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[CommRecorder]:
    """Every widget created in this test gets a `RecordingComm` (only the transport is replaced)."""
    rec = CommRecorder()

    def create(*args: Any, **kwargs: Any) -> RecordingComm:
        c = RecordingComm(*args, **kwargs)
        rec.comms.append(c)
        return c

    monkeypatch.setattr(comm, "create_comm", create)
    yield rec


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    """A real kernel for the module, with the extension loaded and headless mode not forced."""
    k = Kernel()
    try:
        ex = k.execute(
            "%load_ext llmwidgets\nimport os\nos.environ.pop('LLMWIDGETS_HEADLESS', None)"
        )
        assert ex.reply["status"] == "ok", ex.reply
        yield k
    finally:
        k.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API leaves an event loop marked as running in the main thread for as long
    as its session-scoped browser lives, and pytest-asyncio cannot start a loop under it.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
