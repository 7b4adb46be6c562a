"""`%%llm` and `%llm`: ask a model from a cell, with the answer streaming into a widget.

How a cell runs, and why:

* **Widget, returns at once** (the default in a notebook UI): the cell shows a `StreamWidget`
  and ends; the answer streams afterwards, so Stop works and other cells can run. The kernel's
  interrupt, while no cell runs, stops the answers that stream (`_interrupt.py`).
* **Waits** (`--wait`, and always where no widget front end is attached): ipykernel handles no
  widget messages while a cell blocks, and `nest_asyncio` does not work on ipykernel 7, so the
  magic never blocks. Instead an input transformer rewrites a `%%llm` cell (or a cell holding only
  `%llm` lines) into `await <the magic>`: IPython runs it as top-level await, the kernel keeps
  handling Stop clicks, and the interrupt button cancels the await, which stops the stream, keeps
  the partial answer and raises KeyboardInterrupt in the cell.
* **Plain text** where no widget front end is attached: terminal IPython, and kernels driven by
  nbclient / `jupyter nbconvert --execute` / papermill / `jupyter console`. The answer is printed
  as it streams and the cell waits, so a notebook executed headless saves the answer. The
  widget is chosen when any fact says a front end renders it: the request comes from a notebook
  cell (`cellId`: JupyterLab, Notebook 7, VS Code), a widget manager opened ipywidgets' control
  comm, or the kernel's environment names a widget host (Voilà, Colab); see `modes`.
  `LLMWIDGETS_HEADLESS=1` forces plain text, `=0` forces the widget.

The modules: `options` (the option table, its parser and the help), `call` (line and cell to an
`LLMCall`), `modes` (widget or plain text), `bind` (`-o` / `--format`), `widget` and `plain` (the
two paths), `run` (blocking, awaited or in the background) and `wait` (the input transformer).
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from llmwidgets._magics.bind import code_blocks, formatted, parse_json
from llmwidgets._magics.call import LLMCall, parse_call
from llmwidgets._magics.modes import HEADLESS_ENV, display_mode, explain_mode
from llmwidgets._magics.options import FORMATS, OPTIONS, Format, split_line, with_options
from llmwidgets._magics.run import run_blocking, run_call, run_magic, run_unawaited
from llmwidgets._magics.wait import keep_question_marks, transform_cell, transformer

__all__ = [
    "FORMATS",
    "HEADLESS_ENV",
    "OPTIONS",
    "Format",
    "LLMCall",
    "LLMMagics",
    "code_blocks",
    "display_mode",
    "explain_mode",
    "formatted",
    "keep_question_marks",
    "parse_call",
    "parse_json",
    "register",
    "run_blocking",
    "run_call",
    "run_magic",
    "split_line",
    "transform_cell",
]


@magics_class
class LLMMagics(Magics):
    @no_var_expand
    @line_cell_magic
    @with_options  # the docstring is the help `%%llm?` shows, built from the option table
    def llm(self, line: str, cell: str | None = None) -> None:
        __tracebackhide__ = True  # a Ctrl-C shows the cell, not these frames
        run_unawaited(self.shell, line, cell)


def register(ipython: Any) -> None:
    """`%load_ext llmwidgets`: the magics, and the transformer that lets them wait (and keeps
    a line magic's trailing `?` in its prompt)."""
    ipython.register_magics(LLMMagics)
    transforms = ipython.input_transformers_cleanup
    if not any(getattr(t, "llmwidgets", False) for t in transforms):
        transforms.append(transformer(ipython))
