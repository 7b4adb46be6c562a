"""Shared fixtures. `wire_server` is a real HTTP server on 127.0.0.1 speaking both APIs' wire formats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wire_server import WireServer

#: A recognisable fake key: tests assert it never shows up in an error message.
FAKE_KEY = "sk-test-SECRET123456"


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A fresh server per test (starting one takes milliseconds), stopped afterwards."""
    with WireServer() as server:
        yield server


@pytest.fixture
def fake_api_keys(monkeypatch: pytest.MonkeyPatch) -> str:
    """OPENAI_API_KEY and ANTHROPIC_API_KEY set to FAKE_KEY for this test."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    return FAKE_KEY


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API leaves an event loop marked as running in the main thread for as long
    as its session-scoped browser lives, and pytest-asyncio cannot start a loop under it.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
