"""`compare()` / `CompareWidget`, kernel side: several real streams side by side.

Every pane is a real StreamWidget driving the real OpenAI SDK over HTTP to the loopback wire
server; the comm is the recording one, so the widgets run exactly as in a kernel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
import types
from typing import Any

import pytest

from llmwidgets import _pricing as pricing
from llmwidgets._errors import ConfigurationError, ProviderError
from llmwidgets._providers.local import INSTALL_HINT, offline_available
from llmwidgets._widgets.compare import (
    GRID_COLUMNS,
    CompareWidget,
    Pane,
    SummaryRow,
    SummaryTable,
    compare,
    mark_best,
)
from llmwidgets._widgets.saved_copy import EMPTY_SLOT
from llmwidgets._widgets.stream import StreamWidget
from tests.recording_comm import RecordingComm
from tests.support import ended, text_model, until

pytestmark = pytest.mark.usefixtures("openai_key", "recorder")


def run(wire: Any, models: list[Any], prompt: str = "hi", **options: Any) -> CompareWidget:
    return compare(models, prompt, base_url=wire.openai_base_url, **options)


FAST = "fast answer. " * 30
SLOW = "slow answer. " * 30


# -- concurrency and isolation ----------------------------------------------------------------
async def test_four_panes_stream_concurrently_and_a_failing_one_ends_alone(wire_server):
    w = run(
        wire_server,
        [
            text_model(wire_server, "fast", FAST, delay=0.001),
            text_model(wire_server, "medium", FAST, delay=0.003),
            text_model(wire_server, "slow", SLOW, delay=0.012),
            "openai:http-500",
        ],
    )
    order: list[str] = []
    slow_text_when_fast_ended: list[int] = []
    for name, pane in zip(["fast", "medium", "slow", "failing"], w.panes, strict=True):
        pane.on_end(lambda p, name=name: order.append(name))
    w.panes[0].on_end(lambda p: slow_text_when_fast_ended.append(len(w.panes[2].text)))
    started = time.monotonic()
    await ended(w)
    elapsed = time.monotonic() - started

    assert [p.status for p in w.panes] == ["done", "done", "done", "error"]
    assert order[-1] == "slow" and order.index("fast") < order.index("medium")
    assert 0 < slow_text_when_fast_ended[0] < len(SLOW)  # slow was mid-stream, not queued
    arrivals = [r.at for r in wire_server.requests]
    assert len(arrivals) == 4 and max(arrivals) - min(arrivals) < 1.0
    serial = sum(r.total_time for r in w.results if r is not None and r.total_time)
    assert elapsed < serial


async def test_an_error_stays_in_its_pane_and_await_does_not_raise(wire_server):
    w = run(wire_server, [text_model(wire_server, "ok", FAST), "openai:http-500"])
    results = await ended(w)
    assert results[0] is not None and results[0].text == FAST
    assert w.panes[1].status == "error" and w.panes[1].error is not None
    assert isinstance(w.errors[1], ProviderError) and w.errors[0] is None
    assert results[1] is not None and results[1].finish_reason == "error"


async def test_an_unknown_alias_fails_its_pane_without_holding_up_the_others(wire_server):
    w = run(wire_server, ["no-such-alias", text_model(wire_server, "ok", FAST)])
    assert w.panes[0].status == "error"
    results = await ended(w)
    assert results[0] is None and results[1] is not None and results[1].text == FAST
    assert isinstance(w.errors[0], ConfigurationError)
    assert len(wire_server.requests) == 1


async def test_a_comparison_whose_panes_all_fail_at_once_is_already_done(wire_server):
    w = compare(["no-such-alias", "nor-this-one"], "hi")
    assert w.done
    assert await ended(w, timeout=0.5) == [None, None]
    assert w.summary  # the summary shows the two failures


# -- stop --------------------------------------------------------------------------------------
async def test_stop_on_one_pane_leaves_the_others_streaming(wire_server):
    w = run(
        wire_server,
        [
            text_model(wire_server, "a", "a" * 4000, delay=0.005),
            text_model(wire_server, "b", "b" * 4000, delay=0.005),
        ],
    )
    await until(lambda: all(len(p.text) > 20 for p in w.panes))
    w.panes[0].stop()
    await wire_server.until_disconnect()
    grown_from = len(w.panes[1].text)
    await asyncio.sleep(0.1)
    assert w.panes[0].status == "stopped"
    assert w.panes[1].status == "streaming" and len(w.panes[1].text) > grown_from
    assert not w.done
    w.stop_all()
    await ended(w)


async def test_stop_all_closes_every_http_stream(wire_server):
    models = [text_model(wire_server, n, n * 4000, delay=0.005) for n in "xyz"]
    w = run(wire_server, models)
    await until(lambda: all(p.text for p in w.panes))
    w.stop_all()
    results = await ended(w)
    await wire_server.until_disconnect(count=3)
    assert [p.status for p in w.panes] == ["stopped"] * 3
    assert {d.model for d in wire_server.disconnects} == {m.removeprefix("openai:") for m in models}
    assert all(r is not None and r.finish_reason == "cancelled" for r in results)
    assert all(0 < len(r.text) < 4000 for r in results if r is not None)


async def test_the_stop_all_button_stops_every_pane_and_is_disabled_at_the_end(wire_server):
    w = run(wire_server, [text_model(wire_server, n, n * 4000, delay=0.005) for n in "pq"])
    await until(lambda: all(p.text for p in w.panes))
    assert not w.ended  # the view enables Stop all
    assert isinstance(w.comm, RecordingComm)
    w.comm.view_says({"type": "stop_all"})  # the button
    await ended(w)
    assert [p.status for p in w.panes] == ["stopped", "stopped"]
    assert w.ended
    assert [u["ended"] for u in w.comm.state_updates() if "ended" in u] == [True]  # synced


# -- summary -----------------------------------------------------------------------------------
@pytest.fixture
def prices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prices for the wire server's text models, undone after the test."""
    monkeypatch.setitem(pricing.PRICES, "openai", dict(pricing.PRICES["openai"]))
    pricing.set_price("openai", "text:quick", 10.0, 10.0)
    pricing.set_price("openai", "text:thrifty", 1.0, 1.0)
    pricing.set_price("openai", "text:middling", 5.0, 5.0)


async def test_the_table_marks_the_fastest_and_the_cheapest(wire_server, prices):
    w = run(
        wire_server,
        [
            text_model(wire_server, "quick", FAST, delay=0.001),
            text_model(wire_server, "thrifty", FAST, delay=0.006),
            text_model(wire_server, "middling", FAST, delay=0.003),
            "openai:http-500",
        ],
    )
    await ended(w)
    table = w.table()
    assert [row["fastest"] for row in table] == [True, False, False, False]
    assert [row["cheapest"] for row in table] == [False, True, False, False]
    tokens = len(FAST) // 4
    assert [row["output_tokens"] for row in table[:3]] == [tokens] * 3
    assert table[1]["cost"] == pytest.approx((12 * 1.0 + tokens * 1.0) / 1e6)
    assert all(row["finish_reason"] == "stop" for row in table[:3])
    assert all(row["time_to_first_token"] > 0 for row in table[:3])
    speeds = [row["tokens_per_second"] for row in table[:3]]
    assert speeds[0] > speeds[2] > speeds[1]


async def test_a_failed_pane_is_in_the_table_with_its_error_and_never_marked(wire_server, prices):
    w = run(wire_server, [text_model(wire_server, "quick", FAST), "openai:http-500"])
    await ended(w)
    failed = w.table()[1]
    assert failed["status"] == "error" and failed["finish_reason"] == "error"
    assert failed["error"] and failed["error"].startswith("Provider error")
    assert not failed["fastest"] and not failed["cheapest"]


async def test_equal_costs_mark_no_pane_cheapest(wire_server, prices):
    model = text_model(wire_server, "thrifty", FAST)
    w = run(wire_server, [Pane(model, label="a"), Pane(model, label="b")])
    await ended(w)
    table = w.table()
    assert table[0]["cost"] == table[1]["cost"] is not None
    assert [row["cheapest"] for row in table] == [False, False]


def summary_row(label: str, **values: Any) -> SummaryRow:
    defaults: dict[str, Any] = {
        "model": f"openai:{label}",
        "status": "done",
        "time_to_first_token": 0.1,
        "tokens_per_second": 50.0,
        "output_tokens": 100,
        "total_time": 2.0,
        "cost": 0.001,
        "finish_reason": "stop",
        "error": None,
    }
    return SummaryRow(label=label, **{**defaults, **values})


def test_a_tie_for_the_lowest_cost_marks_each_tied_pane_cheapest():
    rows = mark_best([summary_row("a", cost=1e-4), summary_row("b", cost=1e-4), summary_row("c")])
    assert [r.cheapest for r in rows] == [True, True, False]


def test_equal_speeds_mark_no_pane_fastest():
    rows = mark_best([summary_row(n, tokens_per_second=40.0) for n in "abc"])
    assert not any(r.fastest for r in rows)


def test_free_panes_are_not_marked_cheapest():
    rows = mark_best([summary_row("a", cost=0.0), summary_row("b", cost=0.0)])
    assert not any(r.cheapest for r in rows)


# -- table() -----------------------------------------------------------------------------------
def precise_table() -> SummaryTable:
    return SummaryTable(
        mark_best(
            [
                summary_row(
                    "quick",
                    time_to_first_token=0.123456789,
                    tokens_per_second=87.654321,
                    total_time=1.987654321,
                    cost=0.000123456789,
                ),
                summary_row(
                    "slow <b>",
                    time_to_first_token=0.5,
                    tokens_per_second=12.3456,
                    total_time=9.87654,
                    cost=0.0,
                ),
                summary_row("broken", status="error", finish_reason="error", error="Boom: no"),
            ]
        )
    )


async def test_table_returns_the_rows_as_dicts_at_full_precision(wire_server, prices):
    w = run(wire_server, [text_model(wire_server, "quick", FAST), "openai:http-500"])
    await ended(w)
    table = w.table()
    assert isinstance(table, SummaryTable) and isinstance(table, list)
    assert list(table) == [dataclasses.asdict(row) for row in w.rows()]
    assert table[0]["label"] == w.labels[0] and len(table) == 2


def test_the_table_shows_in_a_notebook_as_html_with_rounded_values():
    page = precise_table()._repr_html_()
    assert page.startswith("<table") and page.count("<tr") == 1 + 3
    assert "0.12 s" in page and "87.7" in page and "1.99 s" in page and "$0.000123" in page
    assert "0.123456789" not in page and "87.654321" not in page
    assert "slow &lt;b&gt;" in page and "free" in page
    assert "llmw-mark-fastest" in page and "llmw-mark-cheapest" in page


def test_the_table_shows_as_markdown_with_rounded_values():
    md = precise_table()._repr_markdown_()
    lines = md.splitlines()
    assert lines[0].startswith("| Model | Status | First token | Tokens/s |")
    assert (
        lines[2] == "| quick | done | 0.12 s | 87.7 | 100 | 1.99 s | $0.000123 | stop | fastest |"
    )
    assert "**broken:** Boom: no" in md


def test_the_table_prints_as_aligned_text_with_rounded_values():
    text = repr(precise_table())
    head, quick, slow, broken, error = text.splitlines()
    assert head.startswith("Model     Status  First token  Tokens/s  Output tokens  Total")
    assert quick.split() == "quick done 0.12 s 87.7 100 1.99 s $0.000123 stop fastest".split()
    assert head.index("Status") == quick.index("done") == broken.index("error")
    assert head.index("Cost") == quick.index("$0.000123") == slow.index("free")
    assert error == "broken: Boom: no"


def test_to_pandas_builds_a_dataframe_of_the_rows_at_full_precision(monkeypatch):
    made: list[tuple[Any, Any]] = []
    fake = types.ModuleType("pandas")
    fake.DataFrame = lambda data, columns=None: made.append((data, columns)) or "frame"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", fake)
    table = precise_table()
    assert table.to_pandas() == "frame"
    ((data, columns),) = made
    assert data == list(table) and data[0]["time_to_first_token"] == 0.123456789
    assert columns == [f.name for f in dataclasses.fields(SummaryRow)]


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match=r"pip install pandas"):
        precise_table().to_pandas()


async def test_the_summary_appears_only_when_every_pane_has_ended(wire_server):
    w = run(
        wire_server,
        [
            text_model(wire_server, "f", FAST),
            text_model(wire_server, "s", SLOW, delay=0.01),
        ],
    )
    await until(lambda: w.panes[0].status == "done")
    assert w.summary == ""
    await ended(w)
    assert "<table" in w.summary
    assert w.summary.count("<tr") == 1 + 2


async def test_the_summary_html_escapes_labels_and_never_holds_model_output(wire_server):
    answer = "<b>model output</b> " * 10
    w = run(
        wire_server,
        [
            Pane(text_model(wire_server, "x", answer), label="<img src=x onerror=alert(1)>"),
            Pane(text_model(wire_server, "y", answer), label="plain"),
        ],
    )
    await ended(w)
    summary = w.summary
    assert "<img" not in summary and "&lt;img src=x onerror=alert(1)&gt;" in summary
    assert "model output" not in summary
    assert "var(--jp-" in summary


# -- the offline model -------------------------------------------------------------------------
offline = pytest.mark.skipif(not offline_available(), reason=f"needs: {INSTALL_HINT}")


def status_changes(w: CompareWidget) -> list[list[str]]:
    """Each pane's status after its start ("waiting"), as it changes."""
    seen: list[list[str]] = [[] for _ in w.panes]
    for changes, pane in zip(seen, w.panes, strict=True):
        pane.observe(lambda change, changes=changes: changes.append(change["new"]), "status")
    return seen


@offline
async def test_a_pane_waiting_for_the_busy_offline_model_says_queued():
    w = compare(["local:smollm2", "local:smollm2"], "Name a colour.", max_tokens=30)
    seen = status_changes(w)
    await ended(w, timeout=120)
    # The embedded model answers one request at a time: the second pane waits its turn.
    assert sorted(seen) == [["queued", "waiting", "streaming", "done"], ["streaming", "done"]]


@offline
async def test_a_queued_offline_pane_stops_at_once():
    w = compare(["local:smollm2", "local:smollm2"], "Count to twenty.", max_tokens=60)
    await until(lambda: "queued" in [p.status for p in w.panes], timeout=60)
    queued = next(p for p in w.panes if p.status == "queued")
    other = next(p for p in w.panes if p is not queued)
    queued.stop()
    await until(lambda: queued.status == "stopped")
    assert other.status != "done"  # it stopped without waiting for its turn
    await ended(w, timeout=120)
    assert queued.text == "" and other.status == "done"


# -- options -----------------------------------------------------------------------------------
async def test_per_pane_options_override_the_shared_ones_in_the_request(wire_server):
    model = text_model(wire_server, "same", FAST)
    w = run(
        wire_server,
        [
            Pane(model, temperature=0, system="Be terse."),
            Pane(model, system="Be kind."),
            {"model": model, "label": "hot", "temperature": 1.5},
        ],
        temperature=0.7,
        system="Shared.",
        max_tokens=50,
    )
    await ended(w)
    bodies = sorted(
        (r.body for r in wire_server.requests),
        key=lambda b: (b["temperature"], b["messages"][0]["content"]),
    )
    assert [(b["temperature"], b["messages"][0]) for b in bodies] == [
        (0, {"role": "system", "content": "Be terse."}),
        (0.7, {"role": "system", "content": "Be kind."}),
        (1.5, {"role": "system", "content": "Shared."}),
    ]
    assert all(b.get("max_tokens", b.get("max_completion_tokens")) == 50 for b in bodies)


async def test_a_pane_may_bring_its_own_prompt(wire_server):
    model = text_model(wire_server, "p", FAST)
    w = run(wire_server, [model, Pane(model, prompt="Other question")], prompt="Main question")
    await ended(w)
    asked = sorted(r.body["messages"][-1]["content"] for r in wire_server.requests)
    assert asked == ["Main question", "Other question"]


async def test_titles_show_labels_and_tell_apart_panes_of_the_same_model(wire_server):
    model = text_model(wire_server, "t", FAST)
    w = run(wire_server, [Pane(model, temperature=0), Pane(model, temperature=1)])
    assert w.labels == [f"{model} · temperature=0", f"{model} · temperature=1"]
    assert w.titles == w.labels
    await ended(w)


async def test_panes_of_different_models_without_labels_have_no_extra_title(wire_server):
    w = run(wire_server, [text_model(wire_server, "m1", FAST), text_model(wire_server, "m2", FAST)])
    assert w.titles == ["", ""]
    assert all(isinstance(pane, StreamWidget) for pane in w.panes)
    await ended(w)


async def test_the_grid_wraps_columns_on_narrow_screens(wire_server):
    w = run(wire_server, [text_model(wire_server, "g", FAST)] * 3)
    assert w.columns == GRID_COLUMNS == ("repeat(auto-fit, minmax(min(320px, 100%), 1fr))")
    state = w.get_state()
    assert state["panes"] == [f"IPY_MODEL_{p.model_id}" for p in w.panes]
    assert state["_llmw_view"] == "compare"
    await ended(w)


# -- saved notebooks ---------------------------------------------------------------------------
async def test_the_saved_copy_holds_every_answer_and_the_summary(wire_server):
    w = run(
        wire_server,
        [
            Pane(text_model(wire_server, "one", "First answer, **bold**."), label="one"),
            Pane(text_model(wire_server, "two", "Second answer.", delay=0.01), label="two"),
            Pane("openai:error-mid-stream", label="broken"),
        ],
    )
    assert w.saved_copy() == EMPTY_SLOT
    await ended(w)
    md = w.markdown()
    page = w.saved_copy()["text/html"]
    assert page.index('<h2 class="jp-toc-ignore">one</h2>') < page.index(
        "First answer, <strong>bold</strong>."
    )
    assert md.index("## one") < md.index("First answer, **bold**.") < md.index("## two")
    assert md.index("## two") < md.index("Second answer.") < md.index("## broken")
    assert "Partial answer" in md and "Provider error" in md
    assert "| Model | Status |" in md and "| one | done |" in md


async def test_a_pane_cut_off_inside_a_code_block_does_not_swallow_the_summary(wire_server):
    w = run(
        wire_server,
        [
            Pane(text_model(wire_server, "cut", "Here:\n\n```python\nx = 1"), label="cut"),
            Pane(text_model(wire_server, "next", "Second answer."), label="next"),
        ],
    )
    await ended(w)
    page = w.saved_copy()["text/html"]
    assert '<h2 class="jp-toc-ignore">next</h2>' in page
    assert '<h2 class="jp-toc-ignore">Summary</h2>' in page


@pytest.mark.kernel
def test_a_notebook_run_by_nbclient_saves_every_answer_as_markdown(wire_server):
    """A real kernel: the display made by the cell is updated in place when all panes end."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    wire_server.add_text("nb1", "Answer from the first model.")
    wire_server.add_text("nb2", "Answer from the second model.")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import os\n"
            "os.environ['OPENAI_API_KEY'] = 'sk-test-nb'\n"
            "from llmwidgets._widgets.compare import compare\n"
            f"w = compare(['openai:text:nb1?delay=0.01', 'openai:text:nb2'], 'hi',\n"
            f"            base_url={wire_server.openai_base_url!r})\n"
            "w"
        ),
        nbformat.v4.new_code_cell("_ = await w"),
    ]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    view, saved = nb.cells[0].outputs
    assert view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    page = saved["data"]["text/html"]
    assert "Answer from the first model." in page and "Answer from the second model." in page
    assert nb.cells[1].outputs == []  # the copy landed in the cell that showed the grid
