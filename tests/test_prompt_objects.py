"""Notebook objects in prompts: real pandas DataFrames, matplotlib figures and PIL images become
markdown tables and image parts, in `{name}` interpolation and in list prompts from Python."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest

import llmwidgets
from llmwidgets import StreamWidget
from llmwidgets import _prompt_objects as prompt_objects
from llmwidgets._chunks import ImagePart, Message, to_messages
from llmwidgets._errors import ConfigurationError
from llmwidgets._interpolate import PromptVariableError, interpolate_prompt
from llmwidgets._prompt_objects import (
    THUMBNAIL_PX,
    PromptObjectError,
    table_markdown,
    thumbnail,
    to_prompt,
)
from tests.support import PNG_PIXEL, ended

pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
Image = pytest.importorskip("PIL.Image")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def frame() -> Any:
    """100 rows: row i has n=i, x=i/2 and a label with a `|` that markdown must escape."""
    return pd.DataFrame(
        {"n": range(100), "x": [i / 2 for i in range(100)], "label": [f"r{i}|" for i in range(100)]}
    )


@pytest.fixture
def figure() -> Any:
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 3, 2])
    yield fig
    plt.close(fig)


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


# -- tables ---------------------------------------------------------------------------------------
def test_a_dataframe_in_a_prompt_is_a_markdown_table_with_shape_and_dtypes(frame: Any) -> None:
    text, images = interpolate_prompt("Summarise:\n{df}", {"df": frame.head(3)})
    assert images == []
    assert "pandas DataFrame: 3 rows × 3 columns (all rows shown)" in text
    assert "dtypes: n: int64, x: float64, label: " in text
    assert table_rows(text)[2].split("|")[1:4] == [" 0 ", " 0 ", " 0 "]


def test_a_long_dataframe_keeps_its_head_and_tail_within_the_row_budget(frame: Any) -> None:
    text, _ = interpolate_prompt("{df}", {"df": frame}, max_table_rows=6)
    rows = table_rows(text)[2:]  # past the header and its rule
    assert "100 rows × 3 columns (first 3 and last 3 rows shown)" in text
    assert [row.split("|")[2].strip() for row in rows] == ["0", "1", "2", "…", "97", "98", "99"]


def test_the_default_budget_is_twenty_rows(frame: Any) -> None:
    assert len(table_rows(table_markdown(frame))[2:]) == 20 + 1  # and the gap row


def test_a_cell_holding_a_pipe_does_not_break_the_table(frame: Any) -> None:
    assert "r1\\|" in table_markdown(frame.head(2))


def test_a_zero_row_budget_sends_only_shape_and_dtypes(frame: Any) -> None:
    assert table_rows(table_markdown(frame, max_rows=0)) == []


def test_a_series_is_a_one_column_table_with_its_name(frame: Any) -> None:
    text = table_markdown(frame["x"].head(2))
    assert text.startswith("pandas Series: 2 rows (all rows shown)\ndtypes: x: float64")
    assert table_rows(text)[-1] == "| 1 | 0.5 |"


def test_a_polars_dataframe_is_a_table_without_an_index() -> None:
    pl = pytest.importorskip("polars")
    text = table_markdown(pl.DataFrame({"n": [1, 2, 3]}), max_rows=2)
    assert text.startswith("polars DataFrame: 3 rows × 1 columns (first 1 and last 1 rows shown)")
    assert table_rows(text) == ["| n |", "| --- |", "| 1 |", "| … |", "| 3 |"]


def test_an_unnamed_series_is_a_column_named_value() -> None:
    text = table_markdown(pd.Series([7]))
    assert "dtypes: value: int64" in text and table_rows(text)[0] == "|  | value |"


def test_a_format_spec_or_conversion_formats_the_object_as_python_does(frame: Any) -> None:
    text, _ = interpolate_prompt("{df!r}", {"df": frame.head(1)})
    assert text == repr(frame.head(1))


# -- images ---------------------------------------------------------------------------------------
def test_a_matplotlib_figure_in_a_prompt_is_a_png_image_marked_where_it_stood(
    figure: Any,
) -> None:
    text, images = interpolate_prompt("What does {fig} show?", {"fig": figure})
    assert text == "What does [image 1] show?"
    assert [image.media_type for image in images] == ["image/png"]
    assert images[0].data.startswith(PNG_SIGNATURE)


def test_several_images_are_numbered_in_the_order_they_appear(figure: Any) -> None:
    text, images = interpolate_prompt("{a} vs {b}", {"a": figure, "b": PNG_PIXEL})
    assert (text, images[1].data) == ("[image 1] vs [image 2]", PNG_PIXEL)


def test_a_pil_image_is_sent_as_png() -> None:
    part = to_prompt(Image.new("RGB", (3, 2), "blue"))
    assert isinstance(part, ImagePart) and part.media_type == "image/png"
    assert Image.open(io.BytesIO(part.data)).size == (3, 2)


def test_a_jpeg_pil_image_stays_jpeg() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="JPEG")
    part = to_prompt(Image.open(io.BytesIO(buffer.getvalue())))
    assert isinstance(part, ImagePart) and part.media_type == "image/jpeg"


def test_an_ipython_image_is_sent_with_its_bytes() -> None:
    from IPython.display import Image as IPythonImage

    assert to_prompt(IPythonImage(data=PNG_PIXEL)) == ImagePart("image/png", PNG_PIXEL)


def test_an_ipython_image_of_a_url_is_refused_naming_it() -> None:
    from IPython.display import Image as IPythonImage

    with pytest.raises(PromptVariableError, match=r"example\.org"):
        interpolate_prompt("{img}", {"img": IPythonImage(url="https://example.org/a.png")})


def test_bytes_that_are_no_image_read_as_bytes() -> None:
    assert interpolate_prompt("{b}", {"b": b"abc"}) == ("b'abc'", [])


# -- exceptions -----------------------------------------------------------------------------------
def test_an_exception_in_a_prompt_is_its_traceback() -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        error = exc
    text, _ = interpolate_prompt("Why? {err}", {"err": error})
    assert text.startswith("Why? Traceback (most recent call last):")
    assert text.endswith("KeyError: 'missing'")
    assert "test_an_exception_in_a_prompt_is_its_traceback" in text


# -- prompts from Python --------------------------------------------------------------------------
def test_a_list_of_strings_and_objects_is_one_user_message(figure: Any, frame: Any) -> None:
    (message,) = to_messages(["Describe this", figure, frame.head(1)])
    assert message.role == "user"
    assert message.content.startswith("Describe this\n\n[image 1]\n\npandas DataFrame: 1 rows")
    assert len(message.images) == 1


def test_openai_style_content_parts_keep_their_data_url_images() -> None:
    url = ImagePart("image/png", PNG_PIXEL).data_url
    content = [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    message = Message.coerce({"role": "user", "content": content})
    assert (message.content, message.images) == ("What is it?", [ImagePart("image/png", PNG_PIXEL)])


def test_an_image_url_that_is_no_data_url_is_refused() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.org/cat.png"}}
    with pytest.raises(PromptObjectError, match="data: URLs"):
        Message.coerce({"role": "user", "content": [part]})


def test_a_message_with_images_is_openai_content_parts() -> None:
    message = Message("user", "Hi", images=[ImagePart("image/png", PNG_PIXEL)])
    assert message.to_openai()["content"] == [
        {"type": "text", "text": "Hi"},
        {"type": "image_url", "image_url": {"url": ImagePart("image/png", PNG_PIXEL).data_url}},
    ]


def test_messages_and_loose_parts_in_one_list_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        to_messages([{"role": "user", "content": "Hi"}, "and this"])


# -- models without images ------------------------------------------------------------------------
async def test_the_local_model_refuses_images_before_anything_is_sent() -> None:
    with pytest.raises(ConfigurationError, match=r"^local:smollm2 cannot read images; "):
        await llmwidgets.complete("local:smollm2", ["What is this?", PNG_PIXEL])


async def test_a_replayed_answer_ignores_images() -> None:
    response = await llmwidgets.complete("replay:short", ["What is this?", PNG_PIXEL], delay=0)
    assert response.text


# -- what the widget shows was sent ---------------------------------------------------------------
async def test_the_widget_shows_a_figure_as_a_small_thumbnail(recorder: Any, figure: Any) -> None:
    w = StreamWidget("replay:short", ["Describe this", figure], delay=0)
    await ended(w)
    (item,) = w.sent
    assert (item["kind"], item["label"]) == ("image", "image 1")
    assert item["info"].startswith("PNG · ")
    thumb = Image.open(io.BytesIO(ImagePart.from_data_url(item["src"]).data))
    assert max(thumb.size) <= THUMBNAIL_PX


async def test_the_widget_shows_a_table_as_a_preview_of_what_was_sent(
    recorder: Any, frame: Any
) -> None:
    w = StreamWidget("replay:short", ["Which rows look wrong?", frame], delay=0)
    await ended(w)
    (item,) = w.sent
    assert item["kind"] == "table"
    assert item["label"].startswith("pandas DataFrame: 100 rows × 3 columns")
    assert item["text"] == table_markdown(frame).split("\n", 1)[1]


async def test_the_widget_shows_nothing_sent_for_a_prompt_of_words(recorder: Any) -> None:
    w = StreamWidget("replay:short", "Hi", delay=0)
    await ended(w)
    assert w.sent == []


def test_without_pil_a_small_image_is_its_own_thumbnail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompt_objects.importlib.util, "find_spec", lambda name: None)
    assert (
        thumbnail(ImagePart("image/png", PNG_PIXEL)) == ImagePart("image/png", PNG_PIXEL).data_url
    )


# -- no optional library is imported --------------------------------------------------------------
def test_reading_a_prompt_imports_none_of_the_libraries_it_recognises() -> None:
    code = (
        "import sys\n"
        "from llmwidgets._interpolate import interpolate_prompt\n"
        "interpolate_prompt('{a} {b}', {'a': 1, 'b': b'x'})\n"
        "print(sorted({'pandas', 'polars', 'matplotlib', 'PIL'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
