"""Custom comm messages without the cell's parent header: how stream deltas leave the kernel.

ipykernel stamps every message with the header of the request being handled (the cell's
`execute_request`, ~230 bytes), which is a third of a typical delta's bytes on the websocket.
Comm messages are routed by comm id, not by parent: JupyterLab, Notebook 7 and nbclient only
use the parent to attach *outputs* to a cell, and nbclient ignores custom messages anyway. So
the high-volume custom messages go out with an empty parent header; state updates and display
messages keep theirs (nbclient reads widget state from them).
"""

from __future__ import annotations

from typing import Any, Protocol


class _Widget(Protocol):
    comm: Any

    def send(self, content: dict[str, Any], buffers: Any = None) -> None: ...


def send_custom(widget: _Widget, content: dict[str, Any]) -> None:
    """`widget.send(content)`, minus the parent header when the comm belongs to ipykernel.

    Any other comm (another kernel, a test transport) gets an ordinary `widget.send`.
    """
    comm = widget.comm
    kernel = getattr(comm, "kernel", None)
    session = getattr(kernel, "session", None)
    topic = getattr(comm, "topic", None)
    if kernel is None or session is None or not isinstance(topic, bytes):
        widget.send(content)
        return
    session.send(
        kernel.iopub_socket,
        "comm_msg",
        {"data": {"method": "custom", "content": content}, "comm_id": comm.comm_id},
        parent=None,
        ident=topic,
    )
