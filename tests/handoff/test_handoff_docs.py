"""docs/hand-off.md's Python snippets marked ``<!-- tested: NAME -->`` run as written (registration, flags, …)."""

from __future__ import annotations

import re
import sys
import types
from dataclasses import replace
from pathlib import Path

import pytest

import scaling_search as ss
from tests.handoff_helpers import assert_same_logits, parameters

DOC = Path(__file__).resolve().parents[2] / "docs" / "hand-off.md"
MARKED = re.compile(r"^<!-- tested: (\w+) -->\n```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
"""A fenced Python block on the line after its marker, which names it."""


def snippets() -> dict[str, str]:
    """Each marked Python block by its marker's name."""
    return dict(MARKED.findall(DOC.read_text(encoding="utf-8")))


def run(name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The snippet ``name`` run as a module of its own (timm's ``register_model`` files an entry point under it)."""
    module = types.ModuleType(f"hand_off_{name}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(snippets()[name], str(DOC), "exec"), module.__dict__)
    return module


def test_the_snippets_are_marked():
    assert {"registration", "conversion", "flags"} <= set(snippets())


def test_the_conversion_snippet_runs(monkeypatch: pytest.MonkeyPatch):
    module = run("conversion", monkeypatch)
    assert_same_logits(module.theirs, module.ours)


def test_the_registration_snippet_registers_the_member_and_timm_creates_it(monkeypatch: pytest.MonkeyPatch):
    import timm

    module = run("registration", monkeypatch)
    assert "scaling_search_phi3" in timm.list_models("scaling_search_*")
    model, layout = module.model, module.layout
    assert type(model).__name__ == "EfficientNet" and model.num_classes == 10 and model.drop_rate == layout.dropout
    ours = ss.build(replace(layout, num_classes=10))
    assert parameters(model) == parameters(ours)
    model.load_state_dict(ss.timm_state_dict(ours))
    assert_same_logits(model, ours)


def test_the_flags_snippet_gives_the_members_own_resolution_and_rates(monkeypatch: pytest.MonkeyPatch, capsys):
    module = run("flags", monkeypatch)
    layout = module.layout
    assert capsys.readouterr().out.strip() == module.timm_flags == (
        f"--img-size {layout.resolution} --drop {layout.dropout:g} --drop-path {layout.drop_path:g}")
    assert module.timm_flags == "--img-size 340 --drop 0.4 --drop-path 0.2"  # as the docs' comment says
    assert f"--train-crop-size {layout.resolution}" in module.torchvision_flags
