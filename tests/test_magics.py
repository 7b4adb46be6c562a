"""`%%llm` / `%llm`: parsing, interpolation and the plain-text path through a real IPython shell,
and the widget / `--wait` / interrupt behaviour in a real kernel driven over jupyter_client.

Models: `replay:` recordings (`-O delay=0` plays instantly), `fake:` (`tests.support.FakeProvider`,
in-process), which records every request it gets, and the loopback wire server with the real
OpenAI SDK where an HTTP error is the point.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython import get_ipython
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from kernel_client import Execution, Kernel
from wire_server import WireServer

from llmwidgets import AuthenticationError, ConfigurationError, ModelNotFoundError, Response
from llmwidgets._chunks import ImagePart
from llmwidgets._magics import (
    code_blocks,
    keep_question_marks,
    parse_call,
    parse_json,
    split_line,
    transform_cell,
)
from llmwidgets._providers.replay import load_recording
from llmwidgets._widgets.saved_copy import saved_bundle
from tests.support import PNG_PIXEL, FakeProvider

SHORT = load_recording("short")
#: What the plain-text path prints for it: the answer, ending in exactly one newline.
PRINTED = SHORT if SHORT.endswith("\n") else SHORT + "\n"


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A real IPython shell (no kernel, so no widget front end) with the extension loaded."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-magics-000000000")
    monkeypatch.delenv("LLMWIDGETS_HEADLESS", raising=False)
    shell = start_ipython() or get_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "llmwidgets")
    yield shell
    for name in ("answer", "topic", "code", "data", "both"):
        shell.user_ns.pop(name, None)


def sent_prompt(fake: FakeProvider) -> str:
    (request,) = fake.requests
    return request.messages[-1].content


def run(ip: InteractiveShell, cell: str) -> Any:
    result = ip.run_cell(cell, store_history=True)
    return result


# -- parsing -----------------------------------------------------------------------------------
def test_line_magic_first_word_is_a_model_when_it_has_a_colon() -> None:
    opts, models, prompt = split_line("openai:gpt-4o-mini What's a monad?", frozenset())
    assert (opts, models, prompt) == ([], ["openai:gpt-4o-mini"], "What's a monad?")


def test_line_magic_first_word_is_a_model_when_it_is_a_defined_alias_or_chatbot() -> None:
    assert split_line("fast hi", frozenset({"fast"}))[1] == ["fast"]
    assert split_line("chatbot hi", frozenset())[1] == ["chatbot"]


def test_line_magic_without_a_model_word_sends_the_whole_line_to_chatbot(
    ip: InteractiveShell,
) -> None:
    call = parse_call(ip, "What is a monad?", None)
    assert (call.models, call.prompt) == (["chatbot"], "What is a monad?")


def test_line_magic_first_word_close_to_an_alias_is_refused_as_a_typo(
    ip: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmwidgets.toml").write_text('[aliases]\njudge = "replay:short"\n')
    with pytest.raises(UsageError, match="did you mean `judge`"):
        parse_call(ip, "jduge Is this code right?", None)
    with pytest.raises(UsageError, match="did you mean `chatbot`") as err:
        parse_call(ip, "-t 0 chatbt What is a monad?", None)
    assert "%llm chatbot chatbt" in str(err.value)  # how to send it as written


def test_a_typo_of_an_alias_sends_nothing(ip: InteractiveShell, fake: FakeProvider) -> None:
    result = run(ip, "%llm chatbt What is a monad?")
    assert isinstance(result.error_in_exec, UsageError)
    assert fake.requests == []


def test_a_first_word_merely_like_an_alias_is_the_prompt(ip: InteractiveShell) -> None:
    assert parse_call(ip, "chat about tuples", None).prompt == "chat about tuples"


def test_options_before_the_prompt_are_parsed_and_quoted_values_kept() -> None:
    opts, models, prompt = split_line(
        '-t 0.2 -s "Answer in French" chatbot -m 5 Don\'t "quote" me', frozenset()
    )
    assert opts == ["-t", "0.2", "-s", "Answer in French", "-m", "5"]
    assert models == ["chatbot"]
    assert prompt == 'Don\'t "quote" me'


def test_trailing_carriage_return_and_extra_spaces_are_tolerated(ip: InteractiveShell) -> None:
    call = parse_call(ip, "  replay:short   -o   answer  \r", "hello\r\n")
    assert (call.models, call.out, call.prompt) == (["replay:short"], "answer", "hello")


def test_several_models_in_the_cell_magic_line_are_all_kept(ip: InteractiveShell) -> None:
    call = parse_call(ip, "replay:short replay:tour -t 0", "hi")
    assert call.models == ["replay:short", "replay:tour"]
    assert call.temperature == 0.0


def test_cell_magic_options_after_an_unknown_alias_stay_options(ip: InteractiveShell) -> None:
    call = parse_call(ip, "nosuchalias -t 0.2", "hi")
    assert (call.models, call.temperature) == (["nosuchalias"], 0.2)


def test_an_unknown_option_is_a_usage_error(ip: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="--bogus"):
        parse_call(ip, "replay:short --bogus", "hi")


def test_help_lists_every_option_and_examples(ip: InteractiveShell, capsys: Any) -> None:
    ip.run_cell("%%llm?")
    out = capsys.readouterr().out
    for option in ("--system", "--temperature", "--max-tokens", "--out", "--wait", "--format",
                   "--base-url", "--timeout", "Examples", "LLMWIDGETS_HEADLESS"):  # fmt: skip
        assert option in out


def test_a_line_magic_ending_in_a_question_mark_asks_the_model_instead_of_showing_help(
    ip: InteractiveShell, fake: FakeProvider, capsys: Any
) -> None:
    model = fake.model("t", "ok")
    result = run(ip, f"%llm {model} What is a monad?")
    assert result.success
    assert sent_prompt(fake) == "What is a monad?"
    assert "not found" not in capsys.readouterr().out


def test_a_question_mark_line_magic_works_among_other_code(
    ip: InteractiveShell, capsys: Any
) -> None:
    result = run(ip, "x = 1\nif x:\n    %llm replay:short -O delay=0 Why?\n")
    assert result.success
    assert capsys.readouterr().out == PRINTED


def test_line_magic_help_still_works(ip: InteractiveShell, capsys: Any) -> None:
    for cell in ("%llm?", "%llm ?"):
        ip.run_cell(cell)
        assert "Ask a model" in capsys.readouterr().out


def test_a_kernel_leaves_a_help_request_to_ipython_rather_than_awaiting_it() -> None:
    assert transform_cell(["%llm ?\n"]) == ["%llm ?\n"]
    assert keep_question_marks(["%llm ?\n"]) == ["%llm?\n"]


# -- interpolation -----------------------------------------------------------------------------
def test_variables_are_interpolated_and_double_braces_stay_literal(
    ip: InteractiveShell, fake: FakeProvider, capsys: Any
) -> None:
    ip.user_ns["topic"] = "tuples"
    model = fake.model("t", "ok")
    run(ip, f"%%llm {model}\nAbout {{topic}}: {{{{x}}}}")
    assert sent_prompt(fake) == "About tuples: {x}"


def test_out_of_a_previous_cell_can_be_interpolated(
    ip: InteractiveShell, fake: FakeProvider
) -> None:
    run(ip, "6 * 7")
    n = ip.execution_count - 1
    model = fake.model("t", "ok")
    run(ip, f"%llm {model} Explain {{Out[{n}]}}")
    assert sent_prompt(fake) == "Explain 42"


def test_an_unknown_variable_is_an_error_and_nothing_is_sent(
    ip: InteractiveShell, fake: FakeProvider
) -> None:
    model = fake.model("t", "ok")
    result = run(ip, f"%%llm {model}\nFix {{undefined_x}}")
    assert isinstance(result.error_in_exec, UsageError)
    assert "undefined_x" in str(result.error_in_exec) and "{{" in str(result.error_in_exec)
    assert fake.requests == []


def test_a_dataframe_in_the_cell_is_sent_as_a_table_within_max_table_rows(
    ip: InteractiveShell, fake: FakeProvider
) -> None:
    pd = pytest.importorskip("pandas")
    ip.user_ns["data"] = pd.DataFrame({"n": range(50)})
    model = fake.model("t", "ok")
    run(ip, f"%%llm {model} --max-table-rows 4\nSummarise {{data}}")
    sent = sent_prompt(fake)
    assert sent.startswith("Summarise pandas DataFrame: 50 rows × 1 columns (first 2 and last 2")
    assert sent.endswith("| 0 | 0 |\n| 1 | 1 |\n| … | … |\n| 48 | 48 |\n| 49 | 49 |")


def test_a_figure_in_the_cell_is_sent_as_an_image_part(
    ip: InteractiveShell, fake: FakeProvider
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ip.user_ns["data"] = Figure(figsize=(1, 1))
    model = fake.model("t", "ok")
    run(ip, f"%%llm {model}\nDescribe {{data}}")
    (request,) = fake.requests
    message = request.messages[-1]
    assert message.content == "Describe [image 1]"
    (image,) = message.images
    assert image.data_url.startswith("data:image/png;base64,iVBORw0KGgo")


def test_image_option_sends_the_file_after_the_prompt(
    ip: InteractiveShell, fake: FakeProvider, tmp_path: Path
) -> None:
    (tmp_path / "pixel.png").write_bytes(PNG_PIXEL)
    model = fake.model("t", "ok")
    run(ip, f"%%llm {model} --image {tmp_path / 'pixel.png'}\nWhat is it?")
    (request,) = fake.requests
    message = request.messages[-1]
    assert (message.content, message.images) == ("What is it?", [ImagePart("image/png", PNG_PIXEL)])


def test_image_option_with_a_missing_file_is_a_usage_error_naming_it(
    ip: InteractiveShell, fake: FakeProvider
) -> None:
    model = fake.model("t", "ok")
    result = run(ip, f"%%llm {model} --image no/such/chart.png\nWhat is it?")
    assert isinstance(result.error_in_exec, UsageError)
    assert "--image no/such/chart.png: no such file" in str(result.error_in_exec)
    assert fake.requests == []


def test_image_option_with_a_file_that_is_no_image_is_a_usage_error(
    ip: InteractiveShell, tmp_path: Path
) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(UsageError, match=r"notes\.png: not a PNG, JPEG, GIF or WebP image"):
        parse_call(ip, f"replay:short --image {tmp_path / 'notes.png'}", "What is it?")


def test_private_attributes_cannot_be_reached_from_a_prompt(ip: InteractiveShell) -> None:
    ip.user_ns["topic"] = "x"
    with pytest.raises(UsageError, match="'_'"):
        parse_call(ip, "replay:short", "{topic.__class__}")


def test_raw_sends_braces_as_written(ip: InteractiveShell) -> None:
    assert parse_call(ip, "replay:short --raw", "{undefined}").prompt == "{undefined}"


# -- the plain-text path (no widget front end) -------------------------------------------------
def test_without_a_kernel_the_answer_is_printed_as_it_streams(
    ip: InteractiveShell, capsys: Any
) -> None:
    result = run(ip, "%%llm replay:short -O delay=0\nExplain list comprehensions")
    assert result.success
    assert capsys.readouterr().out == PRINTED


def test_profile_option_picks_the_profiles_alias(
    ip: InteractiveShell, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "llmwidgets.toml").write_text(
        '[aliases]\nchatbot = "replay:tour"\n[profiles.dev.aliases]\nchatbot = "replay:short"\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMWIDGETS_CONFIG", raising=False)
    monkeypatch.delenv("LLMWIDGETS_PROFILE", raising=False)
    assert run(ip, "%%llm chatbot --profile dev -O delay=0\nhi").success
    assert capsys.readouterr().out == PRINTED


def test_out_binds_the_final_response(ip: InteractiveShell) -> None:
    run(ip, "%%llm replay:short -O delay=0 -o answer\nhi")
    answer = ip.user_ns["answer"]
    assert isinstance(answer, Response)
    assert (answer.text, answer.finish_reason) == (SHORT, "stop")


def test_format_code_binds_the_fenced_code(ip: InteractiveShell) -> None:
    run(ip, "%llm replay:short -O delay=0 -o code -f code Show me a comprehension")
    assert ip.user_ns["code"] == "squares = [n * n for n in range(10) if n % 2 == 0]"


def test_format_json_binds_the_parsed_value(ip: InteractiveShell, fake: FakeProvider) -> None:
    model = fake.model("t", 'Here:\n\n```json\n{"colours": ["red", "teal"]}\n```\n')
    run(ip, f"%%llm {model} -f json -o data\nColours")
    assert ip.user_ns["data"] == {"colours": ["red", "teal"]}


def test_several_models_print_one_after_another_and_out_is_a_dict(
    ip: InteractiveShell, capsys: Any
) -> None:
    run(ip, "%%llm replay:short replay:tour -O delay=0 -f text -o both\nhi")
    out = capsys.readouterr().out
    assert out.index("── replay:short ──") < out.index("── replay:tour ──")
    assert ip.user_ns["both"] == {"replay:short": SHORT, "replay:tour": load_recording("tour")}


@pytest.mark.parametrize(
    ("model", "error", "title"),
    [
        ("openai:no-such-model", ModelNotFoundError, "Model not found"),
        ("openai:http-401", AuthenticationError, "Authentication failed"),
        ("nosuchalias", ConfigurationError, "Configuration error"),
    ],
)
def test_an_expected_error_fails_the_cell_with_one_line_not_a_traceback(
    ip: InteractiveShell,
    wire_server: WireServer,
    capsys: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    error: type[Exception],
    title: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # no llmwidgets.toml
    capsys.readouterr()
    result = run(ip, f"%%llm {model} --base-url {wire_server.openai_base_url}\nhi")
    assert isinstance(result.error_in_exec, UsageError)
    assert isinstance(result.error_in_exec.__cause__, error)  # the typed error is kept
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"UsageError: {title}: ")


def test_code_blocks_joins_every_fence() -> None:
    assert code_blocks("a\n```py\nx = 1\n```\nb\n~~~\ny = 2\n~~~\n") == "x = 1\n\ny = 2"


def test_parse_json_reads_a_bare_answer() -> None:
    assert parse_json(" [1, 2] ") == [1, 2]


# -- a real kernel -----------------------------------------------------------------------------
TOUR = "replay:tour -O delay=0.02"  # about 10 s of answer: always still streaming when we act


@pytest.mark.kernel
def test_in_a_notebook_ui_the_cell_returns_while_the_answer_still_streams(kernel: Kernel) -> None:
    ex = kernel.execute("%%llm replay:short -O delay=0.02 -o k1\nhi")
    assert ex.reply["status"] == "ok"
    view, saved_slot = ex.of_type("display_data")  # the live view, then its saved copy's slot
    assert view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert "display_id" in saved_slot["transient"]
    assert kernel.value("'k1' in dir()") is False  # not ended yet


@pytest.mark.kernel
def test_wait_holds_the_cell_until_the_answer_ends_and_binds_out(kernel: Kernel) -> None:
    ex = kernel.execute("%%llm replay:short -O delay=0.002 -o k2 --wait\nhi")
    assert ex.reply["status"] == "ok"
    update = ex.of_type("update_display_data")[-1]  # the end arrived before the cell finished
    assert update["data"]["text/plain"] == SHORT  # the saved copy (short: no excerpt)
    assert kernel.value("k2.text") == SHORT


@pytest.mark.kernel
def test_interrupt_during_wait_stops_the_stream_keeps_the_partial_answer_and_raises(
    kernel: Kernel,
) -> None:
    ex = kernel.execute(f"%%llm {TOUR} -o k3 --wait\nhi", interrupt_after=1.0)
    assert ex.reply["status"] == "error" and ex.reply["ename"] == "KeyboardInterrupt"
    update = ex.of_type("update_display_data")[-1]
    assert "<em>stopped</em>" in update["data"]["text/html"]
    partial, reason = kernel.value("[k3.text, k3.finish_reason]")
    assert reason == "cancelled" and 0 < len(partial) < len(load_recording("tour"))
    assert kernel.value("1 + 1") == 2  # the kernel is still usable


@pytest.mark.kernel
def test_stop_button_works_while_the_cell_waits(kernel: Kernel) -> None:
    stopped: list[str] = []

    def press_stop(k: Kernel, msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "display_data" and not stopped:
            model_id = msg["content"]["data"]["application/vnd.jupyter.widget-view+json"][
                "model_id"
            ]
            time.sleep(0.3)
            k.stop_widget(model_id)
            stopped.append(model_id)

    ex = kernel.execute(f"%%llm {TOUR} -o k4 --wait\nhi", on_output=press_stop)
    assert ex.reply["status"] == "ok"
    assert kernel.value("k4.finish_reason") == "cancelled"


@pytest.mark.kernel
def test_a_kernel_without_a_notebook_ui_prints_the_answer_and_waits(kernel: Kernel) -> None:
    ex = kernel.execute("%%llm replay:short -O delay=0.002 -o k5\nhi", ui=False)
    assert ex.reply["status"] == "ok"
    assert ex.stdout() == PRINTED
    assert kernel.value("k5.text") == SHORT


@pytest.mark.kernel
def test_a_headless_answer_ends_as_one_safe_html_output_for_the_saved_notebook(
    kernel: Kernel,
) -> None:
    ex = kernel.execute("%%llm replay:short -O delay=0.002\nhi", ui=False)
    kinds = [t for _, t, _ in ex.outputs if t not in ("status", "execute_input")]
    assert kinds[-2:] == ["clear_output", "display_data"]
    (final,) = ex.of_type("display_data")
    assert final["data"]["text/html"] == saved_bundle(f"{SHORT}\n\n*replay:short*", "")["text/html"]
    assert final["data"]["text/plain"] == SHORT


@pytest.mark.kernel
def test_a_line_magic_cell_waits_too(kernel: Kernel) -> None:
    ex = kernel.execute("%llm replay:short -O delay=0.002 -o k6 hi", ui=False)
    assert ex.stdout() == PRINTED


@pytest.mark.kernel
def test_interrupt_of_a_headless_cell_keeps_the_printed_partial_answer(kernel: Kernel) -> None:
    ex = kernel.execute(f"%%llm {TOUR} -o k7\nhi", ui=False, interrupt_after=1.0)
    assert ex.reply["ename"] == "KeyboardInterrupt"
    assert ex.stdout().endswith("[stopped]\n")
    assert kernel.value("k7.finish_reason") == "cancelled"
    assert kernel.value("2 + 2") == 4


@pytest.mark.kernel
def test_interrupt_while_no_cell_runs_stops_the_streaming_answer_and_keeps_it(
    kernel: Kernel,
) -> None:
    assert kernel.execute(f"%%llm {TOUR} -o k8\nhi").reply["status"] == "ok"
    time.sleep(1.0)  # the cell has returned; the answer streams
    kernel.km.interrupt_kernel()
    kernel.wait_for("'k8' in dir()")  # -o binds when the answer ends
    partial, reason = kernel.value("[k8.text, k8.finish_reason]")
    assert reason == "cancelled" and 0 < len(partial) < len(load_recording("tour"))
    assert kernel.value("1 + 1") == 2


@pytest.mark.kernel
def test_interrupt_while_a_cell_runs_interrupts_that_cell_and_the_answer_streams_on(
    kernel: Kernel,
) -> None:
    code = "from llmwidgets import StreamWidget\nw9 = StreamWidget('replay:tour', 'hi', delay=0.02)\nw9"
    assert kernel.execute(code).reply["status"] == "ok"
    ex = kernel.execute("import time\ntime.sleep(5)", interrupt_after=1.0)
    assert ex.reply["ename"] == "KeyboardInterrupt"
    assert kernel.value("w9.status") == "streaming"
    kernel.execute("w9.stop()")
    kernel.wait_for("w9.status == 'stopped'")


@pytest.mark.kernel
def test_once_every_answer_has_ended_the_kernel_ignores_interrupt_between_cells_again(
    kernel: Kernel,
) -> None:
    assert kernel.execute("%%llm replay:short -O delay=0.002 -o k10\nhi").reply["status"] == "ok"
    kernel.wait_for("'k10' in dir()")
    # What the kernel puts back when this cell ends: its own "ignore" again, not our handler.
    assert kernel.value("get_ipython().kernel.saved_sigint_handler is __import__('signal').SIG_IGN")
    kernel.km.interrupt_kernel()
    time.sleep(0.3)
    assert kernel.value("2 + 2") == 4


# -- which front end: the facts the mode follows -----------------------------------------------
# Execute requests shaped as each front end sends them (fields read from their source).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SHORT_CELL = "%%llm replay:short -O delay=0.002\nhi"
#: microsoft/vscode-jupyter src/kernels/execution/cellExecution.ts: a notebook cell's request.
VSCODE_CELL = {
    "metadata": {"cellId": "vscode-notebook-cell:/home/me/analysis.ipynb#W3sZmlsZQ%3D%3D"},
    "content": {
        "silent": False,
        "stop_on_error": False,
        "allow_stdin": True,
        "store_history": True,
    },
}
#: src/kernels/helpers.ts executeSilentlyAndEmitOutput: code another extension runs.
VSCODE_EXTENSION_API = {
    "metadata": {},
    "content": {
        "silent": False,
        "stop_on_error": False,
        "allow_stdin": True,
        "store_history": False,
    },
}
#: nbclient (papermill, nbconvert): no cellId.
NBCLIENT = {
    "metadata": {},
    "content": {
        "silent": False,
        "stop_on_error": True,
        "allow_stdin": False,
        "store_history": True,
    },
}


def execute_as(k: Kernel, code: str, front_end: dict[str, Any], timeout: float = 60) -> Execution:
    """Send `code` in an execute request with exactly `front_end`'s metadata and content
    fields, and gather what the kernel sent for it until it is idle."""
    content = {"code": code, "user_expressions": {}, **front_end["content"]}
    msg = k.kc.session.msg("execute_request", content, metadata=front_end["metadata"])
    k.kc.shell_channel.send(msg)
    ex = Execution(reply={})
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            m = k.kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            continue
        if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
            continue
        ex.outputs.append((time.monotonic() - start, m["msg_type"], m["content"]))
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            ex.reply = k.kc.get_shell_msg(timeout=10)["content"]
            return ex
    raise TimeoutError(f"cell did not finish in {timeout}s: {code!r}")


def shows_a_widget(ex: Execution) -> bool:
    return any(WIDGET_VIEW in out.get("data", {}) for out in ex.of_type("display_data"))


@pytest.fixture
def fresh_kernel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    """A kernel of its own (a test that changes kernel-wide state), started with this test's
    environment, the extension loaded."""
    monkeypatch.delenv("LLMWIDGETS_HEADLESS", raising=False)
    k = Kernel()
    try:
        assert execute_as(k, "%load_ext llmwidgets", NBCLIENT).reply["status"] == "ok"
        yield k
    finally:
        k.close()


@pytest.mark.kernel
def test_a_vscode_notebook_cell_shows_the_widget(kernel: Kernel) -> None:
    ex = execute_as(kernel, SHORT_CELL, VSCODE_CELL)
    assert ex.reply["status"] == "ok" and shows_a_widget(ex)


@pytest.mark.kernel
def test_code_vscode_runs_for_another_extension_prints_plain_text(kernel: Kernel) -> None:
    """No cell shows its outputs: they go to the extension that asked, as text."""
    ex = execute_as(kernel, SHORT_CELL, VSCODE_EXTENSION_API)
    assert ex.stdout() == PRINTED and not shows_a_widget(ex)


@pytest.mark.kernel
def test_the_mode_names_the_fact_that_chose_it(kernel: Kernel) -> None:
    explain = "from llmwidgets import explain_mode\nprint(explain_mode(get_ipython()))"
    said = {name: execute_as(kernel, explain, shape).stdout() for name, shape in
            [("vscode", VSCODE_CELL), ("nbclient", NBCLIENT)]}  # fmt: skip
    assert said["vscode"] == "widget: the request comes from a notebook cell (VS Code)\n"
    assert said["nbclient"].startswith("text: no notebook cell, widget manager or widget host")


@pytest.mark.kernel
def test_a_widget_manager_that_opened_the_control_comm_gets_widgets_without_cell_ids(
    fresh_kernel: Kernel,
) -> None:
    """JupyterLab's console: its requests carry no cellId, but its widget manager opened
    ipywidgets' control comm when it connected (once ipywidgets was imported)."""
    assert execute_as(fresh_kernel, "import ipywidgets", NBCLIENT).reply["status"] == "ok"
    content = {"comm_id": "control-1", "target_name": "jupyter.widget.control", "data": {}}
    opening = fresh_kernel.kc.session.msg("comm_open", content, metadata={"version": "1.0.0"})
    fresh_kernel.kc.shell_channel.send(opening)  # handled before the next request
    assert shows_a_widget(execute_as(fresh_kernel, SHORT_CELL, NBCLIENT))


@pytest.mark.kernel
def test_a_kernel_voila_started_gets_widgets_though_its_requests_carry_no_cell_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOILA_BASE_URL", "/")  # what Voilà puts in its kernels' environment
    monkeypatch.delenv("LLMWIDGETS_HEADLESS", raising=False)
    k = Kernel()
    try:
        assert execute_as(k, "%load_ext llmwidgets", NBCLIENT).reply["status"] == "ok"
        assert shows_a_widget(execute_as(k, SHORT_CELL, NBCLIENT))
    finally:
        k.close()


@pytest.mark.kernel
def test_a_colab_kernel_gets_widgets_though_its_requests_carry_no_cell_id(
    fresh_kernel: Kernel,
) -> None:
    """Colab's kernels import `google.colab`; a stand-in module of that name is the fact."""
    colab = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')"
    assert execute_as(fresh_kernel, colab, NBCLIENT).reply["status"] == "ok"
    assert shows_a_widget(execute_as(fresh_kernel, SHORT_CELL, NBCLIENT))


# -- tools ---------------------------------------------------------------------------------------
def test_tools_are_looked_up_in_the_notebook_by_name(ip: InteractiveShell) -> None:
    def get_weather(city: str) -> str:
        return city

    ip.user_ns["get_weather"] = get_weather
    call = parse_call(ip, "--tools get_weather --max-tool-steps 2", "Weather?")
    (tool,) = call.stream_kwargs()["tools"]
    assert tool.name == "get_weather" and tool.function is get_weather
    assert call.stream_kwargs()["max_tool_steps"] == 2


def test_a_tool_name_missing_from_the_notebook_is_refused_before_sending(
    ip: InteractiveShell,
) -> None:
    with pytest.raises(UsageError, match="no function named 'nope'"):
        parse_call(ip, "--tools nope", "Weather?")


def test_the_plain_text_path_prints_each_tool_call_and_the_answer_using_it(
    ip: InteractiveShell, wire_server: WireServer, capsys: Any
) -> None:
    ip.user_ns["get_weather"] = lambda city: f"sunny in {city}"
    ip.run_cell_magic(
        "llm",
        f"openai:weather-loop --base-url {wire_server.openai_base_url} --tools get_weather",
        "Weather?",
    )
    out = capsys.readouterr().out
    assert '[get_weather({"city": "Paris"}) -> done: sunny in Paris]' in out
    assert "The tools said: [sunny in Paris]" in out


def test_approve_in_plain_text_mode_declines_when_no_one_can_answer(
    ip: InteractiveShell, wire_server: WireServer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    ip.user_ns["get_weather"] = lambda city: ran.append(city) or "sunny"

    def no_stdin(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_stdin)
    ip.run_cell_magic(
        "llm",
        f"openai:weather-loop --base-url {wire_server.openai_base_url} --tools get_weather --approve",
        "Weather?",
    )
    assert ran == [] and "declined" in capsys.readouterr().out


def test_in_a_terminal_the_answers_figures_follow_it_on_stderr(
    ip: InteractiveShell, capsys: Any
) -> None:
    ip.run_cell_magic("llm", "replay:short -O delay=0", "Why?")
    printed = capsys.readouterr()
    assert printed.out == PRINTED  # the answer alone on stdout
    assert printed.err.startswith("replay:short · ") and " tokens" in printed.err


@pytest.mark.kernel
def test_awaiting_a_widget_works_in_a_kernel_that_loaded_ipythons_terminal_shell(
    fresh_kernel: Kernel,
) -> None:
    """Kernels may import IPython's terminal shell module; only a terminal shell is one."""
    code = (
        "import IPython.terminal.interactiveshell\n"
        "from llmwidgets import StreamWidget\n"
        "r = await StreamWidget('replay:short', 'hi', delay=0)\n"
        "print('ended:', r.finish_reason)"
    )
    ex = execute_as(fresh_kernel, code, NBCLIENT)
    assert ex.reply["status"] == "ok", ex.reply
    printed = "".join(out.get("text", "") for out in ex.of_type("stream"))
    assert "ended: stop" in printed
