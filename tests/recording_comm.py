"""A comm that records what the kernel would send to the front end, and can play the view.

This replaces only the transport (the `comm` package's DummyComm), never our own classes, so
the widget code under test runs exactly as in a kernel. The `recorder` fixture (`conftest.py`)
installs it for a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from comm.base_comm import BaseComm


@dataclass
class Sent:
    msg_type: str
    data: dict[str, Any]
    size: int  # bytes of JSON payload, as a rough wire size


class RecordingComm(BaseComm):
    log: list[Sent]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.log = []
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        data = data or {}
        self.log.append(Sent(msg_type, data, len(json.dumps(data, default=str))))

    # -- what the front end saw -----------------------------------------------------------
    def customs(self) -> list[dict[str, Any]]:
        return [
            s.data["content"]
            for s in self.log
            if s.msg_type == "comm_msg" and s.data.get("method") == "custom"
        ]

    def deltas(self) -> list[dict[str, Any]]:
        return [c for c in self.customs() if c.get("type") == "delta"]

    def state_updates(self) -> list[dict[str, Any]]:
        return [
            s.data["state"]
            for s in self.log
            if s.msg_type == "comm_msg" and s.data.get("method") == "update"
        ]

    def view_says(self, content: dict[str, Any]) -> None:
        """Deliver a message from the view, as the kernel would."""
        self.handle_msg(
            {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
        )


@dataclass
class CommRecorder:
    comms: list[RecordingComm] = field(default_factory=list)

    def for_widget(self, widget: Any) -> RecordingComm:
        c = widget.comm
        assert isinstance(c, RecordingComm)
        return c
