"""The kernel <-> view message protocol is defined once per side, and the two sides agree."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from llmwidgets._widgets import protocol

ROOT = Path(__file__).resolve().parent.parent
JS_SRC = ROOT / "js" / "src"
WIDGETS = ROOT / "src" / "llmwidgets" / "_widgets"


def js_messages() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"import {{ MESSAGES }} from {json.dumps((JS_SRC / 'protocol.js').as_uri())};"
        "console.log(JSON.stringify(MESSAGES));"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return dict(json.loads(out.stdout))


def test_both_sides_define_the_same_messages() -> None:
    assert js_messages() == protocol.MESSAGES


def test_no_javascript_module_spells_a_message_type_itself() -> None:
    spelled = re.compile(
        r"""type\s*[:=]{1,3}\s*["'](delta|snapshot|reset|hello|stop|send|regenerate|clear|tool|approve)["']"""
    )
    offenders = [
        path.name
        for path in JS_SRC.glob("*.js")
        if path.name != "protocol.js" and spelled.search(path.read_text())
    ]
    assert offenders == []


def test_no_widget_module_spells_a_message_type_itself() -> None:
    spelled = re.compile(
        r"""["']type["']\s*\)?\s*(==|:)\s*["'](delta|snapshot|reset|hello|stop|tool|approve)["']"""
    )
    offenders = [
        path.name
        for path in WIDGETS.glob("*.py")
        if path.name != "protocol.py" and spelled.search(path.read_text())
    ]
    assert offenders == []


def test_a_delta_carries_metrics_only_when_given() -> None:
    assert protocol.delta(3, "ab") == {"type": "delta", "seq": 3, "text": "ab"}
    assert protocol.delta(4, "c", {"elapsed": 1.0})["metrics"] == {"elapsed": 1.0}


def test_anything_but_a_typed_dict_from_a_view_is_ignored() -> None:
    assert protocol.message_type({"type": "stop"}) == "stop"
    assert protocol.message_type(["stop"]) is None
    assert protocol.message_type({"type": 3}) is None
