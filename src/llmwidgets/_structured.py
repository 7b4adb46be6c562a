"""Structured output: `schema=` turns an answer into a validated object.

A schema is a pydantic model class, a `TypedDict` or dataclass, any type pydantic understands, or
a JSON Schema dict. Providers ask the model for JSON in that shape through their native feature
(OpenAI and compatible servers: `response_format` json_schema; Anthropic: `output_config.format`;
Gemini: `response_json_schema`; the Responses API: `text.format`), so the text that streams is the
JSON itself: widgets draw it as an object filling in, and at the end it is validated here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, cast

import pydantic

from llmwidgets._chunks import ResponseFormat
from llmwidgets._errors import ConfigurationError, StructuredOutputError

_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Schema:
    """What the answer must look like, and how to check it."""

    name: str
    json_schema: dict[str, Any]
    #: The strict form OpenAI and Anthropic want (every object closed, every field required).
    strict_schema: dict[str, Any] | None = None
    adapter: pydantic.TypeAdapter[Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, value: Any) -> Schema:
        if isinstance(value, Schema):
            return value
        if isinstance(value, dict):
            title = str(value.get("title") or "answer")
            return cls(_NAME.sub("_", title)[:64], value, _strict_or_none(value))
        try:
            adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(cast(Any, value))
            schema = adapter.json_schema()
        except (pydantic.PydanticUserError, pydantic.PydanticSchemaGenerationError) as exc:
            raise ConfigurationError(
                f"schema={getattr(value, '__name__', value)!r} cannot be turned into a JSON "
                f"schema: {exc}"
            ) from exc
        name = _NAME.sub("_", getattr(value, "__name__", "") or "answer")[:64]
        return cls(name, schema, _strict(adapter, value), adapter)

    def response_format(self) -> ResponseFormat:
        strict = self.strict_schema is not None
        return ResponseFormat(self.name, self.strict_schema or self.json_schema, strict)

    def parse(self, text: str, finish_reason: str | None = None) -> Any:
        """The validated value: the model instance for a model class, else plain data.

        Raises `StructuredOutputError` naming what is wrong; the raw text stays on the error.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            if finish_reason == "length":
                why = (
                    "the answer reached its token limit before the JSON was complete; "
                    "raise max_tokens"
                )
            else:
                why = f"the answer is not valid JSON ({exc})"
            raise StructuredOutputError(
                f"No {self.name} object: {why}. The raw text is kept.", partial_text=text
            ) from None
        if self.adapter is None:
            return data
        try:
            return self.adapter.validate_python(data)
        except pydantic.ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "(root)" for e in exc.errors())
            raise StructuredOutputError(
                f"The answer does not fit {self.name}: {fields} ({exc.errors()[0]['msg']}). "
                "The raw text is kept.",
                partial_text=text,
            ) from None


def _strict(adapter: pydantic.TypeAdapter[Any], value: Any) -> dict[str, Any] | None:
    """OpenAI's own conversion to a strict schema (the SDK uses it for `parse()`), when it
    applies; otherwise None and the plain schema is sent without `strict`."""
    try:
        from openai.lib._pydantic import to_strict_json_schema
    except ImportError:  # pragma: no cover - every supported openai has it
        return None
    try:
        target = (
            value if isinstance(value, type) and issubclass(value, pydantic.BaseModel) else adapter
        )
        return dict(to_strict_json_schema(target))
    except Exception:  # a shape the strict form cannot express: send the plain schema
        return None


def _strict_or_none(schema: dict[str, Any]) -> dict[str, Any] | None:
    """A hand-written schema is strict only if it already is: it is sent as written."""
    return schema if schema.get("additionalProperties") is False else None
