"""The package's public surface: `__all__` lists every public name, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import llmwidgets


def test_all_lists_every_public_name_of_the_package() -> None:
    defined = {
        name
        for name, value in vars(llmwidgets).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    lazy = set(llmwidgets._LAZY)
    assert set(llmwidgets.__all__) == defined | lazy


def test_every_name_in_all_can_be_imported() -> None:
    for name in llmwidgets.__all__:
        assert getattr(llmwidgets, name) is not None, name


def test_the_extension_points_are_public() -> None:
    assert {"Provider", "ProviderConfig", "register_provider", "set_price"} <= set(
        llmwidgets.__all__
    )


def test_the_package_ships_type_information() -> None:
    from importlib.resources import files

    assert files("llmwidgets").joinpath("py.typed").is_file()


def test_importing_the_package_loads_no_sdk_and_no_widget_machinery() -> None:
    code = (
        "import sys, llmwidgets\n"
        "loaded = {'openai', 'anthropic', 'ipywidgets', 'anywidget'} & set(sys.modules)\n"
        "print(sorted(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
