"""Structured output (`schema=`): asked for natively, streamed as JSON text, validated at the end.

Real SDKs over HTTP to the loopback wire server, which records what each request asked for.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from pydantic import BaseModel
from wire_server import Scenario, WireServer, split_text

import llmwidgets
from llmwidgets._errors import ConfigurationError, StructuredOutputError
from llmwidgets._structured import Schema
from tests.support import SDK_PROVIDERS, base_url_for

pytestmark = pytest.mark.usefixtures("fake_api_keys")


class Stop(BaseModel):
    city: str
    days: int


class Trip(BaseModel):
    title: str
    stops: list[Stop]


TRIP = {
    "title": "Three days in Japan",
    "stops": [{"city": "Kyoto", "days": 2}, {"city": "Nara", "days": 1}],
}
TRIP_JSON = json.dumps(TRIP, ensure_ascii=False)


PROVIDERS = SDK_PROVIDERS


def base_url(server: Any, provider: str) -> str:
    return base_url_for(server, provider)


def json_model(server: WireServer, text: str, **fields: Any) -> str:
    return server.scenario(Scenario(text=split_text(text, 5), **fields))


async def ask(server: WireServer, provider: str, model: str, schema: Any, **kw: Any) -> Any:
    return await llmwidgets.complete(
        f"{provider}:{model}",
        "Plan a trip",
        base_url=base_url(server, provider),
        schema=schema,
        **kw,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_answer_is_validated_into_the_model_class(wire_server: WireServer, provider: str):
    r = await ask(wire_server, provider, json_model(wire_server, TRIP_JSON), Trip)
    assert r.parsed == Trip.model_validate(TRIP)
    assert r.text == TRIP_JSON


async def test_openai_is_asked_for_json_schema_strict(wire_server: WireServer):
    await ask(wire_server, "openai", json_model(wire_server, TRIP_JSON), Trip)
    fmt = wire_server.requests[0].body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "Trip"
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False


async def test_anthropic_is_asked_through_output_config_format(wire_server: WireServer):
    await ask(wire_server, "anthropic", json_model(wire_server, TRIP_JSON), Trip)
    fmt = wire_server.requests[0].body["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["required"] == ["title", "stops"]


async def test_gemini_is_asked_for_json_with_the_schema_as_written(wire_server: WireServer):
    await ask(wire_server, "google", json_model(wire_server, TRIP_JSON), Trip)
    config = wire_server.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["required"] == ["title", "stops"]


async def test_the_responses_api_is_asked_through_text_format(wire_server: WireServer):
    await ask(wire_server, "openai-responses", json_model(wire_server, TRIP_JSON), Trip)
    fmt = wire_server.requests[0].body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Trip" and fmt["strict"] is True


async def test_a_json_schema_dict_gives_plain_data(wire_server: WireServer):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    r = await ask(wire_server, "openai", json_model(wire_server, '{"title": "x"}'), schema)
    assert r.parsed == {"title": "x"}
    assert wire_server.requests[0].body["response_format"]["json_schema"]["strict"] is False


async def test_a_dataclass_schema_gives_a_dataclass(wire_server: WireServer):
    @dataclasses.dataclass
    class Colour:
        name: str
        hex: str

    r = await ask(
        wire_server, "openai", json_model(wire_server, '{"name": "teal", "hex": "#008080"}'), Colour
    )
    assert r.parsed == Colour("teal", "#008080")


async def test_an_answer_that_does_not_fit_names_the_field_and_keeps_the_text(
    wire_server: WireServer,
):
    wrong = '{"title": "Trip", "stops": [{"city": "Kyoto", "days": "two"}]}'
    with pytest.raises(StructuredOutputError, match=r"stops\.0\.days") as info:
        await ask(wire_server, "openai", json_model(wire_server, wrong), Trip)
    assert info.value.partial_text == wrong


async def test_json_cut_off_by_the_token_limit_says_to_raise_max_tokens(wire_server: WireServer):
    cut = TRIP_JSON[:30]
    model = json_model(wire_server, cut, finish_reason="length")
    with pytest.raises(StructuredOutputError, match="raise max_tokens") as info:
        await ask(wire_server, "openai", model, Trip)
    assert info.value.partial_text == cut


async def test_a_provider_that_cannot_is_refused_before_anything_is_sent(wire_server: WireServer):
    with pytest.raises(ConfigurationError, match="cannot be asked for structured output"):
        await llmwidgets.complete("local:smollm2", "Plan a trip", schema=Trip)


def test_a_schema_python_cannot_describe_is_a_clear_error() -> None:
    class NotData:
        def __init__(self, handle: Any) -> None: ...

    with pytest.raises(ConfigurationError, match="cannot be turned into a JSON schema"):
        Schema.of(NotData)


# -- widgets and the magic -----------------------------------------------------------------------
@pytest.fixture
def widgets(recorder: Any) -> None:
    """Widgets send over a recording comm (no front end needed)."""


async def test_a_widget_with_a_schema_is_drawn_as_an_object_and_ends_with_it_parsed(
    wire_server: WireServer, widgets: None
):
    from llmwidgets import StreamWidget

    w = StreamWidget(
        f"openai:{json_model(wire_server, TRIP_JSON)}",
        "Plan a trip",
        base_url=wire_server.openai_base_url,
        schema=Trip,
    )
    assert w.structured is True
    response = await w
    assert response.parsed == Trip.model_validate(TRIP)
    assert '```json\n{\n  "title": "Three days in Japan",' in w.markdown()


async def test_a_widget_shows_a_validation_failure_as_its_error_with_the_text_kept(
    wire_server: WireServer, widgets: None
):
    from llmwidgets import StreamWidget

    wrong = json_model(wire_server, '{"title": 3}')
    w = StreamWidget(
        f"openai:{wrong}",
        "Plan a trip",
        base_url=wire_server.openai_base_url,
        schema=Trip,
    )
    with pytest.raises(StructuredOutputError):
        await w
    assert w.status == "error" and w.error is not None
    assert w.error["title"] == "Structured output invalid" and "title" in w.error["message"]
    assert w.final_text == '{"title": 3}'


async def test_compare_with_a_schema_names_the_fields_that_differ(
    wire_server: WireServer, widgets: None
):
    from llmwidgets import Pane, compare

    other = json.dumps({**TRIP, "title": "Japan, slowly"})
    grid = compare(
        [
            Pane(f"openai:{json_model(wire_server, TRIP_JSON)}", label="a"),
            Pane(f"openai:{json_model(wire_server, other)}", label="b"),
        ],
        "Plan a trip",
        base_url=wire_server.openai_base_url,
        schema=Trip,
    )
    await grid
    assert grid.differing_fields() == ["title"]
    assert "Fields that differ: title" in grid.summary
    assert "Fields that differ: title" in grid.markdown()


def test_the_magic_binds_the_validated_object(
    wire_server: WireServer, monkeypatch: pytest.MonkeyPatch
):
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    monkeypatch.setenv("LLMWIDGETS_HEADLESS", "1")
    shell = start_ipython() or get_ipython()
    shell.run_line_magic("load_ext", "llmwidgets")
    shell.user_ns["Trip"] = Trip
    model = json_model(wire_server, TRIP_JSON)
    shell.run_cell_magic(
        "llm",
        f"openai:{model} --base-url {wire_server.openai_base_url} --schema Trip -o trip",
        "Plan",
    )
    assert shell.user_ns.pop("trip") == Trip.model_validate(TRIP)


def test_the_magic_refuses_an_unknown_schema_name_before_sending() -> None:
    from IPython import get_ipython
    from IPython.core.error import UsageError
    from IPython.testing.globalipapp import start_ipython

    from llmwidgets._magics import parse_call

    shell = start_ipython() or get_ipython()
    with pytest.raises(UsageError, match="nothing named 'Nope'"):
        parse_call(shell, "--schema Nope", "Plan")
