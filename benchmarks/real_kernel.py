"""A real ipykernel in its own process, with every iopub message it sends recorded as raw frames.

For figures about bytes on the wire: the kernel runs our code exactly as in a notebook (the last
expression of a cell is displayed, comm messages carry ipykernel's envelopes), and each message
is sized as the Jupyter server forwards it to JupyterLab: the v1 websocket frame
(`jupyter_server`'s `serialize_msg_to_ws_v1`: an offsets table, the channel name, then header,
parent header, metadata and content as the kernel serialized them, and any buffers).

    with RealKernel() as k:
        k.execute("x = 1")
        msgs = k.execute("w = StreamWidget(...)\\nw", until=lambda m: m.msg_type == "...")
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import REPO_ROOT


@dataclass
class IopubMessage:
    """One iopub message: its type, parsed content, parent msg_id and websocket frame size."""

    msg_type: str
    content: dict[str, Any]
    parent_id: str | None
    parent_bytes: int
    ws_bytes: int
    at: float = field(default=0.0)  # time.monotonic() when received

    def kind(self) -> str:
        """A finer label: comm messages by method and custom type or trait names."""
        if self.msg_type != "comm_msg":
            return self.msg_type
        data = self.content.get("data") or {}
        method = data.get("method")
        if method == "custom":
            return f"comm_msg:custom:{(data.get('content') or {}).get('type')}"
        if method == "update":
            return "comm_msg:update:" + ",".join(sorted(data.get("state") or {}))
        return f"comm_msg:{method}"


class RealKernel:
    """`python3` ipykernel (this venv) started by jupyter_client, cwd the repository root."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        self.km: Any = None
        self.kc: Any = None
        self.iopub: Any = None

    def __enter__(self) -> RealKernel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RealKernel:
        import os

        from jupyter_client import KernelManager

        self.km = KernelManager(kernel_name="python3")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **self.env}
        self.km.start_kernel(cwd=str(REPO_ROOT), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.iopub = self.km.connect_iopub()  # our own raw SUB socket, subscribed to all
        # A SUB socket misses what is sent before it has joined: run cells until one shows up.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg_id = self.kc.execute("pass")
            got = self.collect(lambda m, i=msg_id: m.parent_id == i and _idle(m), timeout=1)
            if got and _idle(got[-1]):
                break
        return self

    def stop(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.iopub is not None:
            self.iopub.close(linger=0)
        if self.km is not None:
            self.km.shutdown_kernel(now=True)
        self.km = self.kc = self.iopub = None

    def _read(self, timeout: float) -> IopubMessage | None:
        from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

        if not self.iopub.poll(int(timeout * 1000)):
            return None
        frames = self.iopub.recv_multipart(copy=True)
        at = time.monotonic()
        _idents, rest = self.km.session.feed_identities(frames)
        parts = rest[1:]  # drop the HMAC signature, as the server does
        header = json.loads(parts[0])
        parent = json.loads(parts[1])
        content = json.loads(parts[3])
        return IopubMessage(
            msg_type=str(header.get("msg_type")),
            content=content,
            parent_id=(parent or {}).get("msg_id"),
            parent_bytes=len(parts[1]),
            ws_bytes=len(serialize_msg_to_ws_v1(parts, "iopub")),
            at=at,
        )

    def collect(
        self, until: Callable[[IopubMessage], bool], timeout: float = 120, quiet: float = 0.0
    ) -> list[IopubMessage]:
        """Messages until `until(msg)` is true for one, then until `quiet` s pass without any."""
        out: list[IopubMessage] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._read(min(0.2, max(0.0, deadline - time.monotonic())))
            if msg is None:
                continue
            out.append(msg)
            if until(msg):
                break
        while quiet > 0:
            msg = self._read(quiet)
            if msg is None:
                break
            out.append(msg)
        return out

    def execute(
        self,
        code: str,
        until: Callable[[IopubMessage], bool] | None = None,
        timeout: float = 120,
        quiet: float = 0.0,
    ) -> list[IopubMessage]:
        """Run `code`; messages until the cell is idle (or `until`), then `quiet` s of silence."""
        msg_id = self.kc.execute(code)
        done = until or (lambda m: m.parent_id == msg_id and _idle(m))
        got = self.collect(done, timeout, quiet)
        errors = [m for m in got if m.msg_type == "error" and m.parent_id == msg_id]
        if errors:
            raise RuntimeError("\n".join(errors[0].content.get("traceback", [])))
        return got

    def value(self, expr: str) -> Any:
        """`expr` evaluated in the kernel, through a user expression (no output)."""
        msg_id = self.kc.execute("", silent=True, user_expressions={"v": expr})
        reply = self.kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=60)
        got = reply["content"]["user_expressions"]["v"]
        if got.get("status") != "ok":
            raise RuntimeError(f"{expr}: {got}")
        return ast.literal_eval(got["data"]["text/plain"])  # the repr of plain data


def _idle(m: IopubMessage) -> bool:
    return m.msg_type == "status" and m.content.get("execution_state") == "idle"
