"""Terminal IPython and `python -m llmwidgets` on a real pseudo-terminal, driven as a person does.

Keys go in through the terminal (Enter is `\\r`, Ctrl-C is `\\x03`, which the terminal turns into
SIGINT for the program in front), and what comes out is what the screen shows. IPython runs its
full prompt (prompt_toolkit), not a pipe. Models are recordings (`replay:`) slowed with
`-O delay=...`, so "it streams" is measured between the first and the last words arriving.
Waits are on text, with generous timeouts: a loaded machine makes them slower, not flaky.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmwidgets._cli import EXIT_STOPPED
from llmwidgets._providers.replay import load_recording

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX"),
    pytest.mark.timeout(180),
]

BIN = Path(sys.executable).parent
ROWS, COLS = 24, 100
WAIT = 60.0  # seconds any one expected text may take on a loaded machine
SUMMARY = r"replay:{name} · \d+ tokens · [\d.]+ tok/s · TTFT [\d.]+ s · \$0"
LONG_END = "decides who"  # the last words of replay:long


def terminal_env(tmp: Path) -> dict[str, str]:
    """A fresh machine's environment on an xterm: no config, keys or forced mode, no size
    overrides (rich and IPython read the terminal's own size)."""
    dropped = {"COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES"}
    dropped |= {"NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLMWIDGETS_", "OPENAI_", "ANTHROPIC_", "VOILA_")) and k not in dropped
    }
    env.update(TERM="xterm-256color", IPYTHONDIR=str(tmp / "ipython"), PROMPT_TOOLKIT_NO_CPR="1")
    return env


class Terminal:
    """One program on a pseudo-terminal: `type` keys, `wait_for` text (returns when it arrived)."""

    def __init__(self, argv: list[str], tmp: Path) -> None:
        self.output = io.StringIO()
        self.child = pexpect.spawn(
            argv[0],
            argv[1:],
            cwd=str(tmp),
            env=terminal_env(tmp),
            encoding="utf-8",
            dimensions=(ROWS, COLS),
            timeout=WAIT,
        )
        self.child.logfile_read = self.output

    def wait_for(self, pattern: str) -> float:
        """Wait until `pattern` (a regex) shows; the time it arrived."""
        self.child.expect(pattern)
        return time.monotonic()

    def type(self, *lines: str) -> None:
        """Type lines, each ending with Enter."""
        for line in lines:
            self.child.send(line + "\r")

    def ctrl_c(self) -> None:
        self.child.send("\x03")

    def exit_status(self) -> int | None:
        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus

    def screen(self) -> list[str]:
        """Every line the terminal shows or scrolled away, as a terminal draws the output."""
        screen = pyte.HistoryScreen(COLS, ROWS, history=10_000, ratio=0.5)
        pyte.Stream(screen).feed(self.output.getvalue())
        scrolled = [line for line in screen.history.top]
        rows = [[line[x].data for x in range(COLS)] for line in scrolled]
        rows += [[screen.buffer[y][x].data for x in range(COLS)] for y in range(ROWS)]
        lines = ["".join(row).rstrip() for row in rows]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def close(self) -> None:
        self.child.close(force=True)


# -- terminal IPython --------------------------------------------------------------------------


@pytest.fixture
def ipython(tmp_path: Path) -> Iterator[Terminal]:
    """`ipython` on a terminal, with the extension loaded; the next prompt is `In [2]:`."""
    term = Terminal([str(BIN / "ipython"), "--no-banner", "--colors=NoColor"], tmp_path)
    try:
        term.wait_for(r"In \[1\]:")
        term.type("%load_ext llmwidgets")
        term.wait_for(r"In \[2\]:")
        yield term
    finally:
        term.close()


def run_cell_magic(term: Terminal, line: str, body: str) -> None:
    """Type a `%%llm` cell as a person does: the lines, then Enter on empty lines to run it."""
    term.type(line, body, "", "")


def test_terminal_ipython_prints_the_answer_as_it_arrives(ipython: Terminal) -> None:
    run_cell_magic(ipython, "%%llm replay:short -O delay=0.05", "Why?")
    first = ipython.wait_for("builds a new list")  # the opening words of replay:short
    last = ipython.wait_for(re.escape("[0, 4, 16, 36, 64]"))  # its closing words
    assert last - first > 1.0, "the answer came out all at once"


def test_terminal_ipython_ends_an_answer_with_its_summary_line_and_gives_the_prompt_back(
    ipython: Terminal,
) -> None:
    run_cell_magic(ipython, "%%llm replay:short -O delay=0.01", "Why?")
    ipython.wait_for(re.escape("[0, 4, 16, 36, 64]"))
    ipython.wait_for(SUMMARY.format(name="short"))
    ipython.wait_for(r"In \[3\]:")


def test_terminal_ipython_binds_the_answer_to_the_out_option(ipython: Terminal) -> None:
    run_cell_magic(ipython, "%%llm replay:short -O delay=0.01 -o answer", "Why?")
    ipython.wait_for(r"In \[3\]:")
    ipython.type("print('bound:', len(answer.text), answer.finish_reason)")
    ipython.wait_for(f"bound: {len(load_recording('short'))} stop")


def test_ctrl_c_in_terminal_ipython_stops_the_answer_and_keeps_what_arrived(
    ipython: Terminal,
) -> None:
    run_cell_magic(ipython, "%%llm replay:long -O delay=0.02 -o story", "Tell me more")
    ipython.wait_for("The three pieces")  # ~1 s into a ~13 s answer
    ipython.ctrl_c()
    ipython.wait_for(re.escape("[stopped]"))
    ipython.wait_for(r"replay:long · ~\d+ tokens · .* · stopped")  # the figures so far
    ipython.wait_for(r"In \[3\]:")
    ipython.type("print('kept:', story.finish_reason, len(story.text))")
    kept = ipython.wait_for(r"kept: cancelled (\d+)")
    assert 0 < int(ipython.child.match.group(1)) < len(load_recording("long"))
    assert LONG_END not in ipython.output.getvalue()
    assert kept  # and the shell answers at once: it is not still streaming


def test_ctrl_c_in_terminal_ipython_shows_a_short_interrupt_not_the_event_loops_frames(
    ipython: Terminal,
) -> None:
    run_cell_magic(ipython, "%%llm replay:long -O delay=0.02", "Tell me more")
    ipython.wait_for("The three pieces")
    ipython.ctrl_c()
    ipython.wait_for(r"In \[3\]:")
    shown = ipython.output.getvalue()
    assert "KeyboardInterrupt: Interrupted: the stream was stopped" in shown
    assert "base_events.py" not in shown and "plain.py" not in shown


def test_terminal_ipython_runs_the_next_cell_after_a_ctrl_c(ipython: Terminal) -> None:
    run_cell_magic(ipython, "%%llm replay:long -O delay=0.02", "Tell me more")
    ipython.wait_for("The three pieces")
    ipython.ctrl_c()
    ipython.wait_for(r"In \[3\]:")
    ipython.type("6 * 7")
    ipython.wait_for(r"Out\[3\]: (\x1b\[[0-9;]*m)*42")  # (the prompt may colour the 42)
    ipython.type("exit")
    assert ipython.exit_status() == 0


# -- python -m llmwidgets ----------------------------------------------------------------------


def cli_in_terminal(tmp: Path, *args: str) -> Terminal:
    """`python -m llmwidgets ARGS` with stdout on a terminal and stderr in `tmp/stderr.txt`."""
    command = " ".join([f"exec {sys.executable} -m llmwidgets", *args, f"2>{tmp / 'stderr.txt'}"])
    return Terminal(["/bin/sh", "-c", command], tmp)


def rendered_by_rich(markdown: str) -> list[str]:
    """The lines rich draws for the whole answer at once, at the terminal's width."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(file=io.StringIO(), width=COLS, force_terminal=True, color_system=None)
    return [
        "".join(s.text for s in line).rstrip()
        for line in console.render_lines(Markdown(markdown), pad=False)
    ]


def test_the_cli_on_a_terminal_shows_the_answer_rendered_as_markdown_once(tmp_path: Path) -> None:
    """Rendered by rich while it streams, and once: an answer taller than the screen leaves
    no redrawn copies in the scrollback."""
    pytest.importorskip("rich")
    term = cli_in_terminal(tmp_path, "-m replay:long -O delay=0.002 Tell me")
    try:
        assert term.exit_status() == 0
        assert term.screen() == rendered_by_rich(load_recording("long"))
    finally:
        term.close()


def test_the_cli_on_a_terminal_writes_the_summary_to_stderr_only(tmp_path: Path) -> None:
    term = cli_in_terminal(tmp_path, "-m replay:short -O delay=0.002 Why")
    try:
        assert term.exit_status() == 0
    finally:
        term.close()
    assert re.fullmatch(SUMMARY.format(name="short") + "\n", (tmp_path / "stderr.txt").read_text())
    assert "replay:short ·" not in term.output.getvalue()


def test_the_cli_on_a_terminal_shows_the_answer_as_it_arrives(tmp_path: Path) -> None:
    term = cli_in_terminal(tmp_path, "-m replay:tour -O delay=0.01 Tell me")
    try:
        first = term.wait_for("Reading a CSV file")  # the heading, drawn at once
        assert term.exit_status() == 0
        assert time.monotonic() - first > 1.0, "the answer came out all at once"
    finally:
        term.close()


def test_ctrl_c_in_the_cli_keeps_the_partial_answer_and_exits_130(tmp_path: Path) -> None:
    term = cli_in_terminal(tmp_path, "-m replay:long -O delay=0.02 Tell me")
    try:
        term.wait_for("The three pieces")
        term.ctrl_c()
        assert term.exit_status() == EXIT_STOPPED
    finally:
        term.close()
    shown = "\n".join(term.screen())
    assert "How Python's asyncio runs many things at once" in shown  # rendered: no # or `
    assert LONG_END not in shown
    assert (tmp_path / "stderr.txt").read_text().rstrip().endswith("stopped")


def test_ctrl_c_while_awaiting_a_widget_in_terminal_ipython_stops_its_answer(
    ipython: Terminal,
) -> None:
    ipython.type("from llmwidgets import StreamWidget")
    ipython.wait_for(r"In \[3\]:")
    ipython.type("w = StreamWidget('replay:long', 'Tell me more', delay=0.02)")
    ipython.wait_for(r"In \[4\]:")
    ipython.type("r = await w")
    time.sleep(1.5)  # the answer streams only while a cell awaits it
    ipython.ctrl_c()
    ipython.wait_for(r"In \[5\]:")
    ipython.type("print('after:', w.status, len(w.text))")
    ipython.wait_for(r"after: (\w+) (\d+)")
    status, kept = ipython.child.match.group(1), int(ipython.child.match.group(2))
    assert status == "stopped"
    assert 0 < kept < len(load_recording("long"))
    ipython.type("r = await w; print('again:', r.finish_reason, len(r.text))")
    ipython.wait_for(f"again: cancelled {kept}")  # at once, with nothing more streamed
