"""`python -m llmwidgets`: an answer in the terminal, its summary on stderr, Ctrl-C keeps it."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmwidgets import _cli as cli_module
from llmwidgets._chunks import Response, Usage
from llmwidgets._cli import EXIT_ERROR, EXIT_STOPPED, _RichLive, open_block_start, summary_line
from llmwidgets._providers.replay import load_recording

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, **kw: object) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMWIDGETS_", "OPENAI_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "llmwidgets", *args],
        cwd=kw.get("cwd", ROOT / "tests"),  # no alias file there
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_answer_goes_to_stdout_and_the_summary_to_stderr() -> None:
    out, err = cli("-m", "replay:short", "What", "is", "a", "list?").communicate(timeout=60)
    assert out.rstrip("\n") == load_recording("short").rstrip("\n")
    assert err.startswith("replay:short · ") and " tokens · " in err and "$0" in err


def test_an_unknown_alias_is_an_error_naming_it() -> None:
    p = cli("-m", "no-such-alias", "hi")
    out, err = p.communicate(timeout=60)
    assert p.returncode == EXIT_ERROR and out == ""
    assert "no-such-alias" in err


def test_a_provider_option_reaches_the_provider() -> None:
    """`-O delay=0.05` paces replay:short's 64 pieces over 3.2 s (its own pace: 1.6 s)."""
    start = time.monotonic()
    out, _ = cli("-m", "replay:short", "-O", "delay=0.05", "hi").communicate(timeout=60)
    assert out.rstrip("\n") == load_recording("short").rstrip("\n")
    assert time.monotonic() - start >= 3.0


def test_a_provider_option_without_a_value_is_refused_naming_it() -> None:
    p = cli("-m", "replay:short", "-O", "delay", "hi")
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "KEY=VALUE, got 'delay'" in err


def test_ctrl_c_stops_the_request_and_keeps_the_partial_answer() -> None:
    p = cli("-m", "replay:long", "Tell me a long story")
    assert p.stdout is not None
    first = p.stdout.readline()  # the answer has started
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=30)
    assert p.returncode == EXIT_STOPPED
    printed = first + rest
    assert printed.strip() and len(printed) < len(load_recording("long"))
    assert err.rstrip().endswith("stopped")


def test_the_summary_line_names_model_tokens_speed_and_cost() -> None:
    r = Response(
        "hi",
        "gpt-4o-mini",
        usage=Usage(1000, 2000),
        time_to_first_token=0.25,
        total_time=2.25,
        provider="openai",
    )
    assert (
        summary_line(r) == "openai:gpt-4o-mini · 2000 tokens · 1000.0 tok/s · TTFT 0.25 s · $0.0014"
    )


def test_a_stopped_answers_summary_estimates_its_tokens_from_the_text() -> None:
    """No count comes from the provider before the end: 40 characters read as ~10 tokens."""
    r = Response("x" * 40, "long", time_to_first_token=0.5, total_time=2.5, provider="replay")
    r.finish_reason = "cancelled"
    assert summary_line(r) == "replay:long · ~10 tokens · ~5.0 tok/s · TTFT 0.50 s · $0 · stopped"


def test_markdown_is_rendered_with_rich_where_it_is_installed() -> None:
    pytest.importorskip("rich")
    out = io.StringIO()
    live = _RichLive(out)
    live("# Title\n\nSome **bold** words")
    live.close()
    shown = out.getvalue()
    assert "Title" in shown and "bold" in shown and "**" not in shown and "# " not in shown


def test_the_block_being_written_starts_after_the_last_finished_one() -> None:
    text = "# Title\n\nA paragraph\u2028on two lines.\n\n- a list\n- still growi"
    assert text[open_block_start(text) :] == "- a list\n- still growi"


def test_an_unclosed_code_fence_is_one_open_block() -> None:
    text = "Intro\n\n```python\nx = 1\n\ny = 2"
    assert text[open_block_start(text) :] == "```python\nx = 1\n\ny = 2"


class _Terminal(io.StringIO):
    """Where rich draws as on a terminal."""

    def isatty(self) -> bool:
        return True


def test_text_that_comes_between_frames_is_drawn_when_the_frame_is_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A model that sends a burst and then pauses (a tool call, a slow server) still shows its
    last words: they are not left waiting for the next piece."""
    pytest.importorskip("rich")
    # Frames half a second apart, so that the burst's second piece is "too soon" even when the
    # first draw is slow on a loaded machine.
    monkeypatch.setattr(cli_module, "FRAMES_PER_SECOND", 2)

    async def pause_after_a_burst() -> tuple[str, str]:
        out = _Terminal()
        live = _RichLive(out)
        live("First words")
        live("First words and the last ones")  # too soon for another frame
        before = out.getvalue()
        await asyncio.sleep(0.8)  # the model pauses; the frame falls due
        after = out.getvalue()
        live.close()
        return before, after

    before, after = asyncio.run(pause_after_a_burst())
    assert "last ones" not in before and "last ones" in after
