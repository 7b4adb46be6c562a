"""The `%%llm` option table is the single source of the parser, the line splitter and the help."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from llmwidgets._magics import LLMCall, LLMMagics, parse_call, split_line
from llmwidgets._magics.options import OPTIONS, PARSER, Option
from tests.support import PNG_PIXEL


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    shell = start_ipython() or get_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "llmwidgets")
    yield shell


def sample_value(option: Option) -> str:
    """A value the option accepts, unlike its default."""
    if option.choices:
        return option.choices[-1]
    if option.flags[-1] == "--image":
        return PIXEL_FILE
    if option.type is not None:
        return "3"
    if option.action == "append":
        return "key=1"
    return "name"


#: The file `--image` is given, written by the test that reads every option.
PIXEL_FILE = "pixel.png"


def option_ids(option: Option) -> str:
    return option.flags[-1]


def test_the_parser_has_exactly_the_options_of_the_table() -> None:
    in_parser = {flag for action in PARSER._actions for flag in action.option_strings}
    assert in_parser == {flag for option in OPTIONS for flag in option.flags}


def test_the_help_is_the_parsers_help(ip: InteractiveShell, capsys: Any) -> None:
    assert LLMMagics.llm.__doc__ == PARSER.format_help()
    ip.run_cell("%%llm?")
    assert PARSER.format_help().strip() in capsys.readouterr().out


@pytest.mark.parametrize("option", OPTIONS, ids=option_ids)
def test_every_option_of_the_table_is_in_the_help(
    option: Option, ip: InteractiveShell, capsys: Any
) -> None:
    ip.run_cell("%%llm?")
    out = capsys.readouterr().out
    for flag in option.flags:
        assert flag in out
    assert " ".join(option.help.split()[:4]) in " ".join(out.split())


@pytest.mark.parametrize("option", OPTIONS, ids=option_ids)
def test_every_option_of_the_table_is_read_by_the_line_splitter_and_the_parser(
    option: Option, ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ip.user_ns["name"] = lambda city: city  # what `--tools name` looks up
    monkeypatch.chdir(tmp_path)
    (tmp_path / PIXEL_FILE).write_bytes(PNG_PIXEL)  # what `--image pixel.png` reads
    for flag in option.flags:
        words = [flag, sample_value(option)] if option.takes_value else [flag]
        opts, models, prompt = split_line(f"{' '.join(words)} replay:short hi", frozenset())
        assert (opts, models, prompt) == (words, ["replay:short"], "hi")
        call = parse_call(ip, " ".join(words), "hi")
        assert call != parse_call(ip, "", "hi")  # the option changed the call


def test_every_option_lands_in_the_call() -> None:
    fields = {f.name for f in dataclasses.fields(LLMCall)}
    dests = {PARSER._option_string_actions[option.flags[0]].dest for option in OPTIONS}
    assert dests - fields == {"option"}  # -O KEY=VALUE lands in `options`, as a dict
