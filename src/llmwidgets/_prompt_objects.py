"""Notebook objects as prompt material: tables as markdown text, figures and pictures as images.

A DataFrame printed with `str()` is a wall of text cut wherever pandas decides, and a figure is
`<Figure size 640x480 with 1 Axes>`. Here a pandas or polars DataFrame (or Series) becomes a
markdown table with its shape and dtypes, head and tail kept within a row budget; a matplotlib
`Figure`, a PIL `Image`, an `IPython.display.Image` or PNG/JPEG/GIF/WebP bytes become an
`ImagePart`; an exception becomes its traceback.

None of these libraries is a dependency, and none is imported here: an object is recognised by
the module and name of its type (and its base classes), so a library the notebook never imported
costs nothing, and a subclass (a GeoDataFrame) is still a DataFrame.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import re
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmwidgets._chunks import ImagePart, Message

#: Rows of a table a prompt shows when not told otherwise (`--max-table-rows`).
DEFAULT_MAX_TABLE_ROWS = 20
#: A cell longer than this is cut: one long text column would otherwise fill the prompt.
MAX_CELL_CHARS = 200
#: Resolution of a figure sent as PNG: matplotlib's screen default, legible and small.
FIGURE_DPI = 100


class PromptObjectError(ValueError):
    """An object in the prompt could not be turned into something a model reads."""


def _type_names(obj: object) -> Iterator[tuple[str, str]]:
    """(top-level module, class name) of the object's type and of every base class."""
    for cls in type(obj).__mro__:
        yield cls.__module__.partition(".")[0], cls.__name__


def _is(obj: object, module: str, *names: str) -> bool:
    return any(top == module and name in names for top, name in _type_names(obj))


def to_prompt(
    obj: object, *, max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
) -> str | ImagePart | None:
    """What `obj` reads as in a prompt: text, an image, or None for an ordinary object (which
    is then formatted as `str.format` would)."""
    if isinstance(obj, BaseException):
        return "".join(traceback.format_exception(type(obj), obj, obj.__traceback__)).rstrip()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        try:
            return ImagePart.from_bytes(data)
        except ValueError:
            return None  # bytes that are no image read as bytes
    if _is(obj, "pandas", "DataFrame", "Series") or _is(obj, "polars", "DataFrame", "Series"):
        return table_markdown(obj, max_rows=max_table_rows)
    if _is(obj, "matplotlib", "Figure"):
        return _figure_image(obj)
    if _is(obj, "PIL", "Image") and hasattr(obj, "save"):
        return _pil_image(obj)
    if _is(obj, "IPython", "Image"):
        return _ipython_image(obj)
    return None


# -- tables ---------------------------------------------------------------------------------------


def table_markdown(table: Any, *, max_rows: int = DEFAULT_MAX_TABLE_ROWS) -> str:
    """A pandas or polars DataFrame or Series as a markdown table headed by its shape and
    dtypes; beyond `max_rows` rows, the first and last ones with the gap marked."""
    library = type(table).__module__.partition(".")[0]
    series = _is(table, library, "Series")
    if series:
        name = getattr(table, "name", None)
        table = table.to_frame(name="value" if name is None or name == "" else name)
    rows, columns = table.shape
    head_n, tail_n = _budget(rows, max_rows)
    shown = (
        "all rows shown"
        if head_n + tail_n == rows
        else "no rows shown"
        if head_n + tail_n == 0
        else f"first {head_n} and last {tail_n} rows shown"
    )
    size = f"{rows} rows" if series else f"{rows} rows × {columns} columns"
    heading = f"{library} {'Series' if series else 'DataFrame'}: {size} ({shown})"
    dtypes = ", ".join(f"{col}: {dtype}" for col, dtype in _dtypes(table, library))
    text = f"{heading}\ndtypes: {dtypes}"
    if head_n + tail_n:
        text += "\n\n" + _markdown(table, library, head_n, tail_n)
    return text


def _budget(rows: int, max_rows: int) -> tuple[int, int]:
    """How many rows of the head and of the tail fit the budget (all when they all fit)."""
    if rows <= max_rows:
        return rows, 0
    head = (max(max_rows, 0) + 1) // 2
    return head, max(max_rows, 0) - head


def _dtypes(table: Any, library: str) -> Iterable[tuple[str, str]]:
    if library == "pandas":
        return ((_label(col), str(dtype)) for col, dtype in table.dtypes.items())
    return (
        (_label(col), str(dtype)) for col, dtype in zip(table.columns, table.dtypes, strict=True)
    )


def _markdown(table: Any, library: str, head_n: int, tail_n: int) -> str:
    """A markdown table of the head and tail values, pandas' index first.

    Built here rather than by pandas' `to_markdown`: that needs `tabulate`, leaves a `|` inside
    a cell unescaped (which breaks the table), and pads columns with spaces the model pays for;
    polars has no markdown writer. One builder also makes the prompt the same everywhere."""
    head, tail = table.head(head_n), table.tail(tail_n) if tail_n else None
    index = library == "pandas"
    header = ([""] if index else []) + [_label(col) for col in table.columns]
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(cells) for cells in _cells(head, index)]
    if tail is not None:
        lines.append(_row(["…"] * len(header)))
        lines += [_row(cells) for cells in _cells(tail, index)]
    return "\n".join(lines)


def _cells(table: Any, index: bool) -> Iterator[list[str]]:
    if index:
        for label, values in zip(
            table.index, table.itertuples(index=False, name=None), strict=True
        ):
            yield [_cell(label), *(_cell(v) for v in values)]
    else:
        for values in table.rows():
            yield [_cell(v) for v in values]


def _cell(value: object) -> str:
    """One cell on one line; floats to 6 significant digits, as pandas and polars print them."""
    is_float = isinstance(value, float) or getattr(getattr(value, "dtype", None), "kind", "") == "f"
    text = format(value, ".6g") if is_float else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _label(value: object) -> str:
    return "" if value is None else _cell(value)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# -- images ---------------------------------------------------------------------------------------


def _figure_image(figure: Any) -> ImagePart:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    return ImagePart("image/png", buffer.getvalue())


def _pil_image(image: Any) -> ImagePart:
    """JPEG stays JPEG (smaller, as it came); anything else is sent as PNG."""
    buffer = io.BytesIO()
    if image.format == "JPEG" and image.mode in ("RGB", "L"):
        image.save(buffer, format="JPEG")
        return ImagePart("image/jpeg", buffer.getvalue())
    if image.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):
        image = image.convert("RGBA")
    image.save(buffer, format="PNG")
    return ImagePart("image/png", buffer.getvalue())


def _ipython_image(image: Any) -> ImagePart:
    data = getattr(image, "data", None)
    if not isinstance(data, bytes):
        raise PromptObjectError(
            f"This IPython Image has no data to send (url={getattr(image, 'url', None)!r}); "
            "make it with embed=True, or from a file or bytes."
        )
    try:
        return ImagePart.from_bytes(data)
    except ValueError as exc:
        raise PromptObjectError(f"This IPython Image is {exc}.") from None


# -- prompts --------------------------------------------------------------------------------------


def image_marker(number: int) -> str:
    """What stands in the text where an image was: with several, the model can tell which."""
    return f"[image {number}]"


@dataclass
class PromptBuilder:
    """Collects the text and images of one user message from strings and notebook objects."""

    max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
    images: list[ImagePart] = field(default_factory=list)

    def render(self, obj: object) -> str | None:
        """The text `obj` stands for (an image is kept and a marker returned), or None for an
        ordinary object."""
        material = to_prompt(obj, max_table_rows=self.max_table_rows)
        if isinstance(material, ImagePart):
            self.images.append(material)
            return image_marker(len(self.images))
        return material


def content_parts(
    items: Sequence[Any], *, max_table_rows: int = DEFAULT_MAX_TABLE_ROWS
) -> tuple[str, list[ImagePart]]:
    """A message's content list as (text, images): OpenAI-style `text` and `image_url` (data
    URL) parts, and strings and notebook objects. Parts are joined as given; a notebook object
    or a string after another part starts a new paragraph."""
    builder = PromptBuilder(max_table_rows)
    pieces: list[str] = []
    for item in items:
        if isinstance(item, dict):
            if item.get("type") == "image_url":
                url = item.get("image_url")
                url = url.get("url", "") if isinstance(url, dict) else str(url or "")
                try:
                    builder.images.append(ImagePart.from_data_url(url))
                except ValueError as exc:
                    raise PromptObjectError(f"An image_url part: {exc}.") from None
            else:
                pieces.append(str(item.get("text", "")))
            continue
        text = item if isinstance(item, str) else builder.render(item)
        if text is None:
            text = format(item)
        if pieces and pieces[-1] and not pieces[-1].endswith("\n"):
            text = "\n\n" + text
        pieces.append(text)
    return "".join(pieces), builder.images


def user_message(items: Sequence[Any], *, max_table_rows: int = DEFAULT_MAX_TABLE_ROWS) -> Message:
    """One user message from a list of strings and notebook objects (`stream(m, ["Describe",
    fig])`): text in order, paragraphs apart, each image marked where it stood and attached."""
    text, images = content_parts(items, max_table_rows=max_table_rows)
    return Message("user", text, images=images)


# -- what the widget shows was sent ---------------------------------------------------------------

#: Longest side of a thumbnail in pixels (drawn at most 96 CSS pixels: sharp on HiDPI screens).
THUMBNAIL_PX = 128
#: Without PIL an image is its own thumbnail only up to this size, so saved state stays small.
MAX_RAW_THUMBNAIL_BYTES = 48_000

_TABLE_HEADING = re.compile(r"(?:pandas|polars) (?:DataFrame|Series): \d+ rows.*$", re.MULTILINE)


def thumbnail(image: ImagePart, size: int = THUMBNAIL_PX) -> str:
    """A small PNG data URL of `image` made by PIL where it is installed; without PIL the image
    itself when it is small, else "" (the view then shows the label alone)."""
    if importlib.util.find_spec("PIL") is not None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(image.data)) as opened:
                small = opened.copy()
            small.thumbnail((size, size))
            if small.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                small = small.convert("RGBA")
            buffer = io.BytesIO()
            small.save(buffer, format="PNG")
            return ImagePart("image/png", buffer.getvalue()).data_url
        except (OSError, ValueError, UnidentifiedImageError):
            pass  # bytes PIL cannot read: fall back as if it were absent
    return image.data_url if len(image.data) <= MAX_RAW_THUMBNAIL_BYTES else ""


def _tables_in(text: str) -> Iterator[tuple[str, str]]:
    """(heading, dtypes and rows) of each table `table_markdown` wrote into `text`: the heading
    it writes is how a table is told from the words around it."""
    for match in _TABLE_HEADING.finditer(text):
        dtypes, *rest = text[match.end() :].lstrip("\n").splitlines() or [""]
        if rest and not rest[0].strip():
            rest = rest[1:]
        rows = list(itertools.takewhile(lambda line: line.startswith("|"), rest))
        yield match.group(0), "\n".join([dtypes, *([""] if rows else []), *rows])


def sent_preview(messages: Sequence[Message]) -> list[dict[str, str]]:
    """What the question (the last user message) sent besides its words, for the widget: each
    table (label and markdown) and each image (label, thumbnail, type and size)."""
    question = next((m for m in reversed(messages) if m.role == "user"), None)
    if question is None:
        return []
    items = [
        {"kind": "table", "label": heading, "text": body}
        for heading, body in _tables_in(question.content)
    ]
    for number, image in enumerate(question.images, 1):
        kind = image.media_type.removeprefix("image/").upper()
        items.append(
            {
                "kind": "image",
                "label": image_marker(number).strip("[]"),
                "src": thumbnail(image),
                "info": f"{kind} · {max(1, round(len(image.data) / 1000))} KB",
            }
        )
    return items
