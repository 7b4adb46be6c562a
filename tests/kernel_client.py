"""A real kernel over jupyter_client, sending execute requests the way JupyterLab does."""

from __future__ import annotations

import json
import queue
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Execution:
    reply: dict[str, Any]
    outputs: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    #: Every IOPub message that arrived while the cell ran, whatever its parent (full messages).
    iopub: list[dict[str, Any]] = field(default_factory=list)

    def stdout(self) -> str:
        return "".join(
            c.get("text", "") for _, t, c in self.outputs if t == "stream" and c["name"] == "stdout"
        )

    def of_type(self, msg_type: str) -> list[dict[str, Any]]:
        return [c for _, t, c in self.outputs if t == msg_type]


class Kernel:
    """A kernel over jupyter_client; `ui=True` sends execute requests the way JupyterLab does."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3")

    def execute(
        self, code: str, *, ui: bool = True, timeout: float = 30, interrupt_after: float | None = None,
        on_output: Any = None,
    ) -> Execution:  # fmt: skip
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}  # fmt: skip
        metadata = {"cellId": f"cell-{time.monotonic_ns()}"} if ui else {}
        msg = self.kc.session.msg("execute_request", content, metadata=metadata)
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        ex = Execution(reply={})
        start = time.monotonic()
        interrupted = False
        while True:
            elapsed = time.monotonic() - start
            if interrupt_after is not None and not interrupted and elapsed > interrupt_after:
                self.km.interrupt_kernel()
                interrupted = True
            if elapsed > timeout:
                raise TimeoutError(f"cell did not finish in {timeout}s: {code!r}")
            try:
                m = self.kc.get_iopub_msg(timeout=0.02)
            except queue.Empty:
                continue
            ex.iopub.append(m)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            ex.outputs.append((elapsed, m["msg_type"], m["content"]))
            if on_output is not None:
                on_output(self, m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                ex.reply = reply["content"]
                return ex

    def value(self, expr: str) -> Any:
        ex = self.execute(f"import json as _j; print(_j.dumps({expr}))")
        assert ex.reply["status"] == "ok", ex.reply
        return json.loads(ex.stdout())

    def wait_for(self, expr: str, timeout: float = 10) -> None:
        """Evaluate `expr` in the kernel, cell after cell, until it is true."""
        deadline = time.monotonic() + timeout
        while not self.value(expr):
            assert time.monotonic() < deadline, f"never true: {expr}"
            time.sleep(0.1)

    def stop_widget(self, model_id: str) -> None:
        """What the Stop button sends: a custom comm message to the widget."""
        content = {"comm_id": model_id, "data": {"method": "custom", "content": {"type": "stop"}}}
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", content))

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
