"""`-o NAME` with `--format`: one binder for the widget and the plain-text paths."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from llmwidgets import Response
from llmwidgets._magics.bind import Binder
from llmwidgets._magics.call import LLMCall
from llmwidgets._magics.options import Format


def binder(fmt: Format, out: str | None = "x") -> tuple[Binder, dict[str, Any]]:
    user_ns: dict[str, Any] = {}
    call = LLMCall(models=["a", "b"], prompt="hi", out=out, format=fmt)
    return Binder(SimpleNamespace(user_ns=user_ns), call), user_ns


def test_several_answers_bind_a_dict_and_an_unreadable_one_falls_back_to_its_text() -> None:
    b, ns = binder("json")
    b.bind_each([("a", Response("[1]", "m")), ("b", Response("not json", "m")), ("c", None)])
    assert ns["x"] == {"a": [1], "b": "not json"}  # a pane that failed before starting is left out


def test_one_answer_that_cannot_be_read_binds_its_text_and_raises_when_strict() -> None:
    b, ns = binder("json")
    with pytest.raises(ValueError, match="not valid JSON"):
        b.bind_response(Response("nope", "m"), strict=True)
    assert ns["x"] == "nope"


def test_without_out_nothing_is_bound() -> None:
    b, ns = binder("text", out=None)
    b.bind_each([("a", Response("t", "m"))])
    b.bind_response(Response("t", "m"), strict=True)
    assert ns == {}
