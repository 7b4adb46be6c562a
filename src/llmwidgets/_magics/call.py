"""From the magic's line and cell to one `LLMCall`: models, options and the interpolated prompt.

Everything that can be wrong with the cell is raised here, as a UsageError, before anything is
sent: a bad option, an empty prompt, an undefined `{name}`, a typo of an alias.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from llmwidgets._chunks import ImagePart, Message, Prompt
from llmwidgets._config import DEFAULT_ALIAS, close_alias, load_config
from llmwidgets._errors import LLMWidgetsError
from llmwidgets._interpolate import PromptVariableError, interpolate_prompt
from llmwidgets._magics.options import Format, parse_options, provider_options, split_line
from llmwidgets._prompt_objects import DEFAULT_MAX_TABLE_ROWS
from llmwidgets._structured import Schema
from llmwidgets._tools import Tool

#: How close a line magic's first word must be to an alias to be refused as a typo of it. Higher
#: than difflib's 0.6, since the word is usually just the prompt's first word: at 0.75, "past"
#: would be taken for a typo of an alias `fast`; 0.8 still catches "chatbt", "judeg", "lcoal".
TYPO_CUTOFF = 0.8


@dataclass
class LLMCall:
    """One parsed `%%llm` / `%llm` invocation."""

    models: list[str]
    prompt: str
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    out: str | None = None
    wait: bool = False
    format: Format = "markdown"
    base_url: str | None = None
    timeout: float | None = None
    #: `--profile`: which `[profiles.NAME.aliases]` the models resolve with.
    profile: str | None = None
    raw: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    #: The functions `--tools` named, looked up in the notebook's namespace.
    tools: list[Tool] = field(default_factory=list)
    approve: bool = False
    max_tool_steps: int | None = None
    #: What `--schema NAME` named in the notebook (a class, or a JSON Schema dict).
    schema: Any = None
    #: Figures and pictures `{name}` named, then the `--image` files, sent after the text.
    images: list[ImagePart] = field(default_factory=list)
    #: `--max-table-rows`: rows of each DataFrame the prompt shows (None: the default, 20).
    max_table_rows: int | None = None

    @property
    def message_prompt(self) -> Prompt:
        """What is sent: the text, or one user message holding the text and the images."""
        return (
            [Message("user", self.prompt, images=list(self.images))] if self.images else self.prompt
        )

    def stream_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `stream()`, `StreamWidget` and `compare()`."""
        kw: dict[str, Any] = dict(self.options)
        for name in ("system", "temperature", "max_tokens", "base_url", "timeout", "profile"):
            value = getattr(self, name)
            if value is not None:
                kw[name] = value
        if self.schema is not None:
            kw["schema"] = self.schema
        if self.tools:
            kw["tools"] = list(self.tools)
            if self.approve:
                kw["approve"] = True
            if self.max_tool_steps is not None:
                kw["max_tool_steps"] = self.max_tool_steps
        return kw


def parse_call(shell: Any, line: str, cell: str | None) -> LLMCall:
    """Parse the magic line and body and interpolate the prompt; raises UsageError when wrong."""
    aliases = _defined_aliases()
    opts, models, rest = split_line(line, aliases, all_models=cell is not None)
    if cell is None:
        prompt = rest
        if not models and rest:
            _refuse_alias_typo(rest.split(None, 1)[0], aliases)
    else:
        if rest:
            models.extend(rest.split())  # the cell magic's line holds only models and options
        prompt = cell.replace("\r\n", "\n").replace("\r", "\n")
    args = parse_options(opts)
    prompt = prompt.strip()
    if not prompt:
        raise UsageError(
            "Nothing to ask: put the prompt in the cell under %%llm, or after the model in "
            "%llm chatbot What is a monad?"
        )
    images: list[ImagePart] = []
    if args.max_table_rows is not None and args.max_table_rows < 0:
        raise UsageError(f"--max-table-rows needs 0 or more, got {args.max_table_rows}.")
    if not args.raw:
        rows = DEFAULT_MAX_TABLE_ROWS if args.max_table_rows is None else args.max_table_rows
        try:
            prompt, images = interpolate_prompt(prompt, shell.user_ns, max_table_rows=rows)
        except PromptVariableError as exc:
            raise UsageError(str(exc)) from None
    images += [read_image(path) for path in args.images or []]
    if args.out is not None and not args.out.isidentifier():
        raise UsageError(f"-o needs a variable name, got {args.out!r}.")
    extra = provider_options(args.option)
    return LLMCall(
        models=models or [DEFAULT_ALIAS],
        prompt=prompt,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        out=args.out,
        wait=args.wait,
        format=args.format,
        base_url=args.base_url,
        timeout=args.timeout,
        profile=args.profile,
        raw=args.raw,
        options=extra,
        tools=find_tools(shell.user_ns, args.tools),
        approve=args.approve,
        max_tool_steps=args.max_tool_steps,
        schema=find_schema(shell.user_ns, args.schema),
        images=images,
        max_table_rows=args.max_table_rows,
    )


def read_image(path: str) -> ImagePart:
    """The file `--image PATH` names, read now so a missing or wrong file sends nothing."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror or exc
        raise UsageError(f"--image {path}: {reason} (looked in {file.absolute()}).") from None
    try:
        return ImagePart.from_bytes(data)
    except ValueError as exc:
        raise UsageError(f"--image {path}: {exc}.") from None


def find_schema(namespace: dict[str, Any], name: str | None) -> Any:
    """What `--schema NAME` names, checked before anything is sent."""
    if name is None:
        return None
    if name not in namespace:
        raise UsageError(f"--schema: nothing named {name!r} in the notebook. Define it first.")
    value = namespace[name]
    try:
        Schema.of(value)
    except LLMWidgetsError as exc:
        raise UsageError(f"--schema: {exc}") from None
    return value


def find_tools(namespace: dict[str, Any], names: str | None) -> list[Tool]:
    """The functions `--tools a,b` names, as tools of those names (a lambda too); a name that is
    missing, not callable or not describable is refused before anything is sent."""
    tools: list[Tool] = []
    for name in (n.strip() for n in (names or "").split(",")):
        if not name:
            continue
        value = namespace.get(name)
        if value is None:
            raise UsageError(
                f"--tools: no function named {name!r} in the notebook. Define it first."
            )
        if not callable(value):
            raise UsageError(f"--tools: {name!r} is a {type(value).__name__}, not a function.")
        try:
            tools.append(Tool.from_function(value, name=name))
        except (LLMWidgetsError, TypeError) as exc:
            raise UsageError(f"--tools: {exc}") from None
    return tools


def _defined_aliases() -> frozenset[str]:
    try:
        return load_config().alias_names()
    except LLMWidgetsError:
        return frozenset()  # a broken lockfile is reported when the model is resolved


def _refuse_alias_typo(word: str, aliases: frozenset[str]) -> None:
    """`%llm chatbt hi` would send "chatbt hi" to chatbot: refuse it before anything is sent."""
    guess = close_alias(word, aliases, cutoff=TYPO_CUTOFF)
    if guess is not None:
        raise UsageError(
            f"{word!r} is not an alias: did you mean `{guess}`? Nothing was sent. If {word!r} "
            f"starts the prompt, name the model first: %llm {DEFAULT_ALIAS} {word} ..."
        )
