"""The options of the `%%llm` line, defined once.

`OPTIONS` builds the argparse parser that reads them and whose help `%%llm?` shows, and it tells
`split_line` which words of the line are options and which of those take a value, so the three
cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from llmwidgets._config import DEFAULT_ALIAS

Format = Literal["markdown", "text", "code", "json"]
FORMATS: tuple[str, ...] = ("markdown", "text", "code", "json")


@dataclass(frozen=True)
class Option:
    """One option of the magic line: what `ArgumentParser.add_argument` is given for it."""

    flags: tuple[str, ...]
    help: str
    type: Callable[[str], Any] | None = None
    dest: str | None = None
    metavar: str | None = None
    action: Literal["store_true", "append"] | None = None
    choices: tuple[str, ...] | None = None
    default: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.action != "store_true"

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        # Only what is set: argparse's own defaults differ per action (store_true means False).
        settings: dict[str, Any] = {
            "type": self.type,
            "dest": self.dest,
            "metavar": self.metavar,
            "action": self.action,
            "choices": self.choices,
            "default": self.default,
        }
        kwargs = {key: value for key, value in settings.items() if value is not None}
        parser.add_argument(*self.flags, help=self.help, **kwargs)


#: Every option of `%%llm` / `%llm`, in the order `%%llm?` lists them.
OPTIONS: tuple[Option, ...] = (
    Option(("-s", "--system"), "system prompt"),
    Option(("-t", "--temperature"), "sampling temperature", type=float),
    Option(("-m", "--max-tokens"), "answer length limit", type=int, dest="max_tokens"),
    Option(
        ("-o", "--out"),
        "when the answer ends, bind it to NAME: the Response with --format markdown, the text / "
        "code (str) or the parsed JSON value with text / code / json. With several models, a "
        "dict {model: value}.",
        metavar="NAME",
    ),
    Option(
        ("-w", "--wait"),
        "keep the cell running until the answer is complete (for Run All pipelines whose next "
        "cell reads -o). Stop and the kernel's interrupt button still work.",
        action="store_true",
    ),
    Option(
        ("-f", "--format"),
        "what -o binds (default markdown: the Response)",
        choices=FORMATS,
        default="markdown",
    ),
    Option(("--base-url",), "send to this OpenAI/Anthropic-compatible URL", dest="base_url"),
    Option(("--timeout",), "seconds the stream may stall before it fails", type=float),
    Option(
        ("--profile",),
        "resolve aliases with [profiles.NAME.aliases] of llmwidgets.toml over [aliases] "
        "(default: $LLMWIDGETS_PROFILE)",
        metavar="NAME",
    ),
    Option(
        ("-O", "--option"),
        "a provider option (repeatable); VALUE is read as JSON when it can be",
        metavar="KEY=VALUE",
        action="append",
    ),
    Option(("-r", "--raw"), "send the prompt as written: no {name}", action="store_true"),
    Option(
        ("--image",),
        "send this PNG, JPEG, GIF or WebP file with the prompt (repeatable)",
        dest="images",
        metavar="PATH",
        action="append",
    ),
    Option(
        ("--max-table-rows",),
        "rows of a DataFrame in {name} the prompt shows: its first and last ones (default 20)",
        type=int,
        dest="max_table_rows",
        metavar="N",
    ),
    Option(
        ("--schema",),
        "the answer as JSON in this shape: a pydantic model, TypedDict or dataclass from the "
        "notebook, or a JSON Schema dict; it fills in live, and -o binds the validated object",
        metavar="NAME",
    ),
    Option(
        ("--tools",),
        "Python functions from the notebook the model may call, comma-separated "
        "(get_weather,search_docs); their results go back and the answer goes on",
        metavar="NAMES",
    ),
    Option(
        ("--approve",),
        "show Allow / Deny on each tool call before it runs (plain-text mode: calls are refused)",
        action="store_true",
    ),
    Option(
        ("--max-tool-steps",),
        "rounds of tool calls one answer may make (default 10)",
        type=int,
        dest="max_tool_steps",
    ),
)

MODELS_HELP = (
    "an alias from llmwidgets.toml or provider:model (default: chatbot). Several models stream "
    "side by side."
)

#: The prose of `%%llm?`, above the usage and option lines the parser adds.
DESCRIPTION = """Ask a model; the answer streams into the cell as live markdown, with Stop.

Examples::

    %%llm
    Explain Python's GIL in two sentences.

    %%llm fast -t 0.2 -o summary
    Summarise this for a newcomer: {text}

    %%llm openai:gpt-4o-mini anthropic:claude-haiku-4-5
    Which is faster, a list or a tuple?

    %%llm --wait --format json -o data
    Give me three colours as a JSON list of strings.

    %%llm --tools get_weather,convert_units
    Is it warmer in Paris or in Oslo right now, in Fahrenheit?

    %llm chatbot What is a monad?
    %llm explain the error in {Out[3]}

In a line magic the first word is a model if it holds ':' or names an alias (or is
chatbot); otherwise the whole line is the prompt, unless the word is close to an
alias (`chatbt`): that is refused as a typo before anything is sent. `{name}` in the prompt is replaced by
the variable `name` from the notebook (`{In[3]}` and `{Out[3]}` work; `{{` is a literal
brace; --raw turns this off). An unknown name is an error and nothing is sent. A DataFrame
becomes a markdown table (shape, dtypes, first and last rows), an exception its traceback,
and a matplotlib figure or a picture is sent as an image.

The cell returns at once and the answer streams afterwards; Stop, or the kernel's interrupt
while no cell runs, stops it and keeps the partial answer. With --wait the cell runs
until the answer ends (it is rewritten into a top-level `await`, so the Stop button and
the kernel's interrupt keep working; the interrupt keeps the partial answer and raises
KeyboardInterrupt). Where no widget front end is attached (terminal IPython, nbclient,
nbconvert --execute, papermill, jupyter console) the answer is printed as plain text and
the cell always waits; set LLMWIDGETS_HEADLESS=1 or 0 to force either way, and
`from llmwidgets import explain_mode; explain_mode(get_ipython())` says why.
"""


def _build_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser("llm", description=DESCRIPTION)
    parser.add_argument("models", nargs="*", metavar="MODEL", help=MODELS_HELP)
    for option in OPTIONS:
        option.add_to(parser)
    return parser


PARSER = _build_parser()
#: What `%%llm?` shows: usage, the description, then every option of the table.
HELP = PARSER.format_help()

_VALUE_FLAGS = frozenset(flag for option in OPTIONS if option.takes_value for flag in option.flags)
#: `-h` is no option of the parser (IPython's parsers add no help option); it is kept whole as a
#: flag, so the parser refuses it by name ("unrecognized arguments: -h").
_BARE_FLAGS = frozenset(
    flag for option in OPTIONS if not option.takes_value for flag in option.flags
) | {"-h", "--help"}

_F = TypeVar("_F", bound=Callable[..., Any])


def with_options(magic: _F) -> _F:
    """Give the magic the table's help as its docstring (`%%llm?`) and its parser (which
    IPython's completer reads), as IPython's `@magic_arguments` would."""
    magic.__doc__ = HELP
    magic.has_arguments = True  # type: ignore[attr-defined]
    magic.parser = PARSER  # type: ignore[attr-defined]
    return magic


def is_model_word(word: str, aliases: frozenset[str]) -> bool:
    """In `%llm WORD ...`: is WORD a model rather than the first word of the prompt?"""
    return ":" in word or word in aliases or word == DEFAULT_ALIAS


def split_line(
    line: str, aliases: frozenset[str], *, all_models: bool = False
) -> tuple[list[str], list[str], str]:
    """Split a magic line into (option tokens, model words, rest of the line).

    `all_models`: every word that is not an option is a model (the `%%llm` line holds no
    prompt), so an unknown alias reaches resolution, which names it, and options after it
    are still read as options.

    Only the head of the line is tokenized, so a prompt after it keeps its apostrophes, quotes
    and spacing: `%llm -t 0 chatbot What's a monad?` -> (["-t", "0"], ["chatbot"], "What's...").
    Option values may be quoted: `-s "Answer in French"`.
    """
    rest = line.replace("\r", " ").strip()
    opts: list[str] = []
    models: list[str] = []
    while rest:
        word = rest.split(None, 1)[0]
        after = rest[len(word) :].lstrip()
        name = word.split("=", 1)[0]
        if word == "--":
            rest = after
            break
        if name in _BARE_FLAGS:
            opts.append(word)
        elif name in _VALUE_FLAGS:
            opts.append(word)
            if "=" not in word:
                value, after = _take_value(after)
                if value is None:
                    raise UsageError(f"Option {word} needs a value.")
                opts.append(value)
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            raise UsageError(f"Unknown option {word!r}. See %%llm? for the options.")
        elif all_models or is_model_word(word, aliases):
            models.append(word)
        else:
            break
        rest = after
    return opts, models, rest


def _take_value(text: str) -> tuple[str | None, str]:
    """The next (possibly quoted) word of `text`, and what follows it."""
    if not text:
        return None, ""
    if text[0] in "\"'":
        end = text.find(text[0], 1)
        while end != -1 and text[end - 1] == "\\":
            end = text.find(text[0], end + 1)
        if end == -1:
            raise UsageError(f"Unclosed quote in option value: {text!r}")
        return shlex.split(text[: end + 1])[0], text[end + 1 :].lstrip()
    word = text.split(None, 1)[0]
    return word, text[len(word) :].lstrip()


def parse_options(tokens: list[str]) -> argparse.Namespace:
    """Read the option tokens `split_line` found; a bad value is a UsageError naming it."""
    try:
        return PARSER.parse_args(tokens)
    except SystemExit:  # argparse exits only after printing why
        raise UsageError("See %%llm? for the options.") from None


def provider_options(items: list[str] | None) -> dict[str, Any]:
    """`-O KEY=VALUE` options as keyword arguments; VALUE is read as JSON when it can be."""
    extra: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"-O takes KEY=VALUE, got {item!r}.")
        extra[key.strip()] = _json_or_text(value.strip())
    return extra


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
