"""`{name}` in a `%%llm` prompt: variables from the user namespace, checked before anything is sent.

Built on `string.Formatter`, so `{x}`, `{x!r}`, `{x:.2f}`, `{In[3]}`, `{Out[3]}`, `{d[key]}` and
`{obj.attr}` work and `{{` / `}}` are literal braces. Nothing is evaluated: a field is a name
followed by attribute or index lookups, exactly what `str.format` allows. Attributes that start
with `_` are refused, so a prompt cannot walk into `__globals__` and the like.

A plain `{name}` (no `!r`, no format spec) of a notebook object reads as `prompt_objects` renders
it: a DataFrame as a markdown table, an exception as its traceback, and a figure or picture as
an image attached to the message, with `[image N]` left in the text where it stood.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from llmwidgets._chunks import ImagePart
from llmwidgets._prompt_objects import DEFAULT_MAX_TABLE_ROWS, PromptBuilder, PromptObjectError


class PromptVariableError(ValueError):
    """A `{field}` in the prompt could not be filled. Raised before any request is sent."""


class _NamespaceFormatter(string.Formatter):
    def __init__(
        self, namespace: Mapping[str, Any], max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
    ) -> None:
        self.namespace = namespace
        self.builder = PromptBuilder(max_table_rows)

    def format_field(self, value: Any, format_spec: str) -> Any:
        if not format_spec:
            try:
                text = self.builder.render(value)
            except PromptObjectError as exc:
                raise PromptVariableError(str(exc)) from None
            if text is not None:
                return text
        return super().format_field(value, format_spec)

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, int) or key == "":
            raise PromptVariableError(
                "The prompt has an empty or numbered field like {} or {0}; name a variable, "
                "as in {text}, or write {{ and }} for literal braces."
            )
        if key not in self.namespace:
            raise PromptVariableError(
                f"The prompt uses {{{key}}}, but no variable {key!r} is defined. Define it in a "
                f"cell above, or write {{{{{key}}}}} if you meant literal braces."
            )
        return self.namespace[key]

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        first, rest = _formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            try:
                if is_attr:
                    if str(key).startswith("_"):
                        raise PromptVariableError(
                            f"{{{field_name}}}: attributes starting with '_' are not allowed in "
                            "prompts."
                        )
                    obj = getattr(obj, str(key))
                else:
                    obj = obj[key]
            except PromptVariableError:
                raise
            except (AttributeError, LookupError, TypeError) as exc:
                hint = ""
                if first in ("In", "Out") and not is_attr:
                    hint = f" ({first}[{key}] does not exist: is the cell number right?)"
                raise PromptVariableError(
                    f"The prompt uses {{{field_name}}}, which cannot be looked up: "
                    f"{type(exc).__name__}: {exc}{hint}. Write {{{{ and }}}} for literal braces."
                ) from None
        return obj, first


def _formatter_field_name_split(field_name: str) -> tuple[Any, Any]:
    import _string  # the parser str.format itself uses

    first, rest = _string.formatter_field_name_split(field_name)
    return first, rest


def interpolate(template: str, namespace: Mapping[str, Any]) -> str:
    """Fill `{name}` fields from `namespace`; raises `PromptVariableError` naming the problem.
    Only the text: `interpolate_prompt` also returns the images the fields named."""
    return interpolate_prompt(template, namespace)[0]


def interpolate_prompt(
    template: str, namespace: Mapping[str, Any], *, max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
) -> tuple[str, list[ImagePart]]:
    """Fill `{name}` fields from `namespace`: the text, and the images of figures and pictures
    the fields named, in order. Raises `PromptVariableError` naming the problem."""
    formatter = _NamespaceFormatter(namespace, max_table_rows)
    try:
        return formatter.vformat(template, (), {}), formatter.builder.images
    except PromptVariableError:
        raise
    except ValueError as exc:  # unbalanced braces, bad format spec
        raise PromptVariableError(
            f"The prompt's braces could not be read ({exc}). Write {{{{ and }}}} for literal "
            "braces, or pass --raw to send the text exactly as written."
        ) from None
