"""ToolCallAccumulator and ToolCall: assembling streamed tool-call fragments."""

from __future__ import annotations

from llmwidgets._chunks import ToolCall
from llmwidgets._providers._assemble import ToolCallAccumulator, ToolCallDelta

WEATHER_ARGS = '{"city": "Paris", "unit": "celsius"}'


def interleaved() -> list[ToolCallDelta]:
    return [
        ToolCallDelta(0, id="call_a", name="get_weather"),
        ToolCallDelta(1, id="call_b", name="get_time"),
        ToolCallDelta(0, arguments='{"city": '),
        ToolCallDelta(1, arguments='{"tz": "Eur'),
        ToolCallDelta(0, arguments='"Paris", "unit": '),
        ToolCallDelta(1, arguments='ope/Paris"}'),
        ToolCallDelta(0, arguments='"celsius"}'),
    ]


def test_interleaved_fragments_are_assembled_by_index() -> None:
    acc = ToolCallAccumulator()
    acc.extend(interleaved())
    assert [(c.id, c.name, c.arguments) for c in acc.calls] == [
        ("call_a", "get_weather", WEATHER_ARGS),
        ("call_b", "get_time", '{"tz": "Europe/Paris"}'),
    ]


def test_calls_are_listed_in_index_order_whatever_the_arrival_order() -> None:
    acc = ToolCallAccumulator()
    acc.add(ToolCallDelta(2, name="c"))
    acc.add(ToolCallDelta(0, name="a"))
    assert [c.index for c in acc.calls] == [0, 2]


def test_later_fragments_without_id_or_name_keep_the_first_ones() -> None:
    acc = ToolCallAccumulator()
    acc.add(ToolCallDelta(0, id="call_a", name="f"))
    acc.add(ToolCallDelta(0, arguments="{}"))
    assert (acc.calls[0].id, acc.calls[0].name) == ("call_a", "f")


def test_empty_accumulator_is_falsy_and_filled_one_truthy() -> None:
    acc = ToolCallAccumulator()
    assert not acc
    acc.add(ToolCallDelta(0, name="f"))
    assert acc


def test_parsed_arguments_stay_none_until_the_json_is_whole() -> None:
    call = ToolCall(index=0, name="get_weather")
    parsed = []
    for i in range(1, len(WEATHER_ARGS) + 1):
        call.arguments = WEATHER_ARGS[:i]
        parsed.append(call.parsed_arguments)
    assert parsed[:-1] == [None] * (len(WEATHER_ARGS) - 1)
    assert parsed[-1] == {"city": "Paris", "unit": "celsius"}


def test_parsed_arguments_of_a_non_object_are_none() -> None:
    assert ToolCall(index=0, name="f", arguments="[1, 2]").parsed_arguments is None


def test_partial_arguments_never_raise_on_any_prefix() -> None:
    call = ToolCall(index=0, name="get_weather")
    for i in range(len(WEATHER_ARGS) + 1):
        call.arguments = WEATHER_ARGS[:i]
        value = call.partial_arguments
        assert value is None or isinstance(value, dict)


def test_partial_arguments_show_an_unfinished_string() -> None:
    call = ToolCall(index=0, name="get_weather", arguments='{"city": "Par')
    assert call.partial_arguments == {"city": "Par"}


def test_partial_arguments_of_nothing_yet_are_an_empty_object() -> None:
    assert ToolCall(index=0, name="f").partial_arguments == {}


def test_a_call_is_complete_once_named_and_its_json_whole() -> None:
    call = ToolCall(index=0, name="f", arguments='{"a": ')
    assert not call.complete
    call.arguments += "1}"
    assert call.complete


def test_a_call_with_no_arguments_sends_an_empty_object_to_openai() -> None:
    call = ToolCall(index=0, id="call_a", name="f")
    assert call.to_openai()["function"]["arguments"] == "{}"
