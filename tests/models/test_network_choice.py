"""Naming a network: multipliers, compound scaling, a released name or a layout file, one way at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0, released_model
from scaling_search.models.choice import choose_layout
from scaling_search.models.scaling import compound_layout, released_layout, scale


def test_nothing_given_is_b0_at_the_callers_default_resolution():
    assert choose_layout() == scale()
    assert choose_layout().resolution == EFFICIENTNET_B0.base_resolution
    assert choose_layout(default_resolution=64) == scale(resolution=64)
    assert choose_layout(width=0.5, default_resolution=32) == scale(0.5, 1.0, 32)


def test_each_way_gives_its_own_layout():
    assert choose_layout(width=1.1, depth=1.2, resolution=260) == scale(1.1, 1.2, 260)
    assert choose_layout(alpha=1.2, beta=1.1, gamma=1.15, phi=1) == compound_layout(1.2, 1.1, 1.15, 1)
    assert choose_layout(alpha=1.2, beta=1.1, gamma=1.15, phi=2, base_resolution=64).resolution == round(64 * 1.15**2)
    assert choose_layout(model="EfficientNet-B3") == released_layout(released_model("b3"))


def test_resolution_and_classes_override_the_chosen_layout(tmp_path: Path):
    assert choose_layout(model="b7", resolution=64).resolution == 64
    path = tmp_path / "layout.json"
    path.write_text(json.dumps({"layout": scale(0.5, 0.5, 48, num_classes=10).to_dict(), "status": "ok"}))
    assert choose_layout(config=path) == scale(0.5, 0.5, 48, num_classes=10)
    assert choose_layout(config=str(path), num_classes=3).num_classes == 3
    assert choose_layout(config=path, resolution=40).resolution == 40


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"width": 1.1, "alpha": 1.2}, "width and alpha describe the network in different ways; choose one"),
        ({"depth": 1.1, "model": "b1"}, "depth and model describe"),
        ({"base_resolution": 64, "config": "x.json"}, "base_resolution and config describe"),
        ({"alpha": 1.2, "beta": 1.1}, "compound scaling needs gamma, phi as well"),
        ({"model": "b9"}, "unknown model 'b9'"),
        ({"width": 0.0}, r"width must be a number in \(0, 64\], got 0.0"),
        ({"resolution": 4}, r"resolution must be an integer in \[8, 4096\], got 4"),
        ({"alpha": 1.2, "beta": 1.1, "gamma": 1.15, "phi": 1, "base_resolution": 0}, "base resolution must be"),
        ({"num_classes": 0}, r"num_classes must be an integer in \[1, 100000\], got 0"),
    ],
)
def test_bad_choices_are_input_errors(options, message):
    with pytest.raises(InputError, match=message):
        choose_layout(**options)


def test_config_files_that_are_not_layouts(tmp_path: Path):
    cases = {
        "missing.json": (None, "cannot read .*missing.json"),
        "latin1.json": ('{"name": "caf\u00e9"}'.encode("latin-1"), "latin1.json is not UTF-8 text"),
        "broken.json": (b"{", "broken.json is not JSON"),
        "list.json": (b"[1, 2]", "list.json: expected a layout object or an object with a 'layout' key"),
        "partial.json": (b'{"layout": {"width": 1}}', "partial.json: not a layout"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=message):
            choose_layout(config=tmp_path / name)
