"""`{name}` in a `%%llm` prompt: variables from the user namespace, checked before anything is sent.

Built on `string.Formatter`, so `{x}`, `{x!r}`, `{x:.2f}`, `{In[3]}`, `{Out[3]}`, `{d[key]}` and
`{obj.attr}` work and `{{` / `}}` are literal braces. Nothing is evaluated: a field is a name
followed by attribute or index lookups, exactly what `str.format` allows. Attributes that start
with `_` are refused, so a prompt cannot walk into `__globals__` and the like.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any


class PromptVariableError(ValueError):
    """A `{field}` in the prompt could not be filled. Raised before any request is sent."""


class _NamespaceFormatter(string.Formatter):
    def __init__(self, namespace: Mapping[str, Any]) -> None:
        self.namespace = namespace

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
    """Fill `{name}` fields from `namespace`; raises `PromptVariableError` naming the problem."""
    try:
        return _NamespaceFormatter(namespace).vformat(template, (), {})
    except PromptVariableError:
        raise
    except ValueError as exc:  # unbalanced braces, bad format spec
        raise PromptVariableError(
            f"The prompt's braces could not be read ({exc}). Write {{{{ and }}}} for literal "
            "braces, or pass --raw to send the text exactly as written."
        ) from None
