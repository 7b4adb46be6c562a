"""Python functions as tools a model can call.

A function becomes a `Tool` through pydantic: its signature and type hints give the JSON schema
the model sees (and validate the arguments it sends), its docstring gives the descriptions (parsed
by `docstring_parser`, so Google, NumPy and reST styles all work). Nothing here maps types by hand.

Sync functions run in a worker thread and async ones on the kernel loop, so the kernel, the
widgets and Stop stay responsive while a tool works. A tool that raises does not end the answer:
the error goes back to the model as the call's result, and the card shows it.

    def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
        '''Current weather for a city.

        Args:
            city: The city's name, e.g. "Paris".
        '''
    StreamWidget("chatbot", "Weather in Paris?", tools=[get_weather])
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import docstring_parser
import pydantic
from pydantic.fields import FieldInfo

from llmwidgets._chunks import ToolCall, ToolResult, ToolStatus
from llmwidgets._errors import ConfigurationError

#: What a person (or a callback) decides before a call runs.
Approver = Callable[[ToolCall], "bool | Awaitable[bool]"]
#: `approve=` as users write it: ask for every call (True), for the named tools, or a callback.
ApproveOption = bool | Iterable[str] | Approver | None

DEFAULT_MAX_TOOL_STEPS = 10
DECLINED = "The user declined this call."
CANCELLED = "The call was cancelled: the user pressed Stop."


@dataclass(frozen=True)
class Tool:
    """A function the model may call, with the JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any] = field(repr=False, compare=False)

    @classmethod
    def from_function(cls, function: Callable[..., Any], name: str | None = None) -> Tool:
        if not callable(function):
            raise TypeError(f"A tool is a function, not {type(function).__name__}")
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(cast(Any, function))
        try:
            schema = adapter.json_schema()
        except pydantic.PydanticUserError as exc:  # e.g. an argument type with no JSON form
            raise ConfigurationError(
                f"Tool {getattr(function, '__name__', function)!r} cannot be described to the "
                f"model: {exc}. Give its arguments JSON-friendly type hints (str, int, float, "
                "bool, lists, dicts, Literal, pydantic models)."
            ) from exc
        doc = docstring_parser.parse(inspect.getdoc(function) or "")
        described = {p.arg_name: p.description for p in doc.params if p.description}
        described.update(_field_descriptions(function))
        for arg, prop in schema.get("properties", {}).items():
            prop.pop("title", None)
            if arg in described and "description" not in prop:
                prop["description"] = described[arg]
        schema.pop("title", None)
        description = "\n\n".join(
            part for part in (doc.short_description, doc.long_description) if part
        )
        return cls(
            name=name or function.__name__,
            description=description,
            parameters=schema,
            function=function,
        )

    def spec(self) -> dict[str, Any]:
        """The tool in OpenAI's function shape (each provider converts it to its own)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        """Validate the arguments and call the function: sync ones in a worker thread."""
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(cast(Any, self.function))
        if inspect.iscoroutinefunction(self.function):
            return await adapter.validate_python(dict(arguments))
        return await asyncio.to_thread(adapter.validate_python, dict(arguments))


def _field_descriptions(function: Callable[..., Any]) -> dict[str, str]:
    """`Annotated[T, Field(description=...)]` of each argument: pydantic 2.9 (our floor) leaves
    them out of a function's schema, so they are read from the hints here."""
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception:  # unresolvable forward references: the schema step reports those
        return {}
    found: dict[str, str] = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is not typing.Annotated:
            continue
        for meta in typing.get_args(hint)[1:]:
            description = getattr(meta, "description", None)
            if isinstance(meta, FieldInfo) and description:
                found[name] = description
    return found


class Toolbox:
    """The tools of one request: runnable functions, plus raw schemas passed through as is."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any] | Mapping[str, Any]]) -> None:
        self.runnable: dict[str, Tool] = {}
        self.raw: list[dict[str, Any]] = []
        for item in tools:
            if isinstance(item, Tool):
                self.runnable[item.name] = item
            elif isinstance(item, Mapping):
                self.raw.append(dict(item))
            else:
                tool = Tool.from_function(item)
                self.runnable[tool.name] = tool

    def __bool__(self) -> bool:
        return bool(self.runnable or self.raw)

    def specs(self) -> list[dict[str, Any]]:
        return [t.spec() for t in self.runnable.values()] + self.raw

    def runs(self, call: ToolCall) -> bool:
        """Whether this toolbox can answer the call itself (else the caller gets it back)."""
        return call.name in self.runnable

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call. Every failure becomes an error result the model can read and act on."""
        started = time.perf_counter()

        def result(content: str, status: ToolStatus = "done") -> ToolResult:
            return ToolResult(call.id, call.name, content, status, time.perf_counter() - started)

        tool = self.runnable.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.runnable)) or "none"
            return result(f"There is no tool named {call.name!r} (tools: {names}).", "error")
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError as exc:
            return result(f"The arguments are not valid JSON: {exc}.", "error")
        if not isinstance(arguments, dict):
            return result("The arguments must be a JSON object.", "error")
        try:
            value = await tool.run(arguments)
        except pydantic.ValidationError as exc:
            return result(f"Invalid arguments for {call.name}: {exc}", "error")
        except Exception as exc:  # the tool's own failure goes to the model, not up the stack
            return result(f"{type(exc).__name__}: {exc}", "error")
        return result(as_text(value))


def as_text(value: Any) -> str:
    """A tool's return value as the text the model reads (JSON for data, str otherwise)."""
    if isinstance(value, str):
        return value
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(pydantic.TypeAdapter(type(value)).dump_python(value, mode="json"))
    except (pydantic.PydanticSchemaGenerationError, TypeError, ValueError):
        return str(value)


@dataclass(frozen=True)
class Approval:
    """Which calls wait for a decision (`names`; None: all) and who decides."""

    decide: Approver
    names: frozenset[str] | None = None

    def needs(self, call: ToolCall) -> bool:
        return self.names is None or call.name in self.names


def approver(approve: ApproveOption, ask: Approver | None) -> Approval | None:
    """Turn `approve=` into an `Approval`, or None when calls run without asking.

    `ask` is how a widget asks a person (Allow/Deny on the card); without one, True or a set of
    names cannot be honoured, which is an error naming the fix rather than a silent pass.
    """
    if approve is None or approve is False:
        return None
    if callable(approve):
        return Approval(approve)
    if ask is None:
        raise ConfigurationError(
            "approve=True (or a list of tool names) needs a widget to show Allow and Deny. "
            "Outside a widget pass a function: approve=lambda call: call.name != 'delete_file'."
        )
    names = None if approve is True else frozenset(approve)
    return Approval(ask, names)
