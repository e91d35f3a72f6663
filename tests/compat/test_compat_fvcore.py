"""The fvcore behaviour scaling-search relies on beyond fvcore's public API (see scaling_search/compat/fvcore.py).

If one of these fails, fvcore changed a private detail: update scaling_search/compat/fvcore.py (and
pin the fvcore version that works in pyproject.toml until it is).
"""

from __future__ import annotations

import warnings
from collections import Counter
from numbers import Number

import pytest
import torch
from torch import nn

from scaling_search.compat.fvcore import default_op_handles
from scaling_search.counting.measured import COUNTED_OPS

ACTIVATION_OPS = ("aten::_convolution", "aten::addmm", "aten::linear", "aten::matmul")
"""The ops whose outputs count as activations: those of conv and linear layers."""


class ConvLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean((2, 3)))


def handles() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return default_op_handles(ConvLinear().eval(), torch.zeros(1, 3, 10, 10))


def test_default_handles_exist_for_every_op_counted():
    found = handles()
    assert set(found) == {"macs", "activations"}, f"fvcore's analyses changed: got handle sets {set(found)}"
    for kind, ops in (("macs", COUNTED_OPS), ("activations", ACTIVATION_OPS)):
        missing = [op for op in ops if not callable(found[kind].get(op))]
        assert not missing, (f"fvcore no longer has a default {kind} handle for {missing}: "
                             "scaling_search/compat/fvcore.py must find them elsewhere")


def test_handles_called_on_traced_ops_return_numbers_or_counters_of_the_expected_size():
    from fvcore.nn.jit_analysis import JitModelAnalysis

    found = handles()
    returned: dict[tuple[str, str], object] = {}

    def recording(kind: str, op: str, handle):
        def record(inputs: list, outputs: list):
            returned[kind, op] = value = handle(inputs, outputs)
            return value

        return record

    model, inputs = ConvLinear().eval(), torch.zeros(1, 3, 10, 10)
    for kind in ("macs", "activations"):
        analysis = JitModelAnalysis(model, inputs)
        analysis.set_op_handle(**{op: recording(kind, op, found[kind][op]) for op in ACTIVATION_OPS})
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            analysis.by_operator()
    expected = {  # the conv: 8 outputs of 3x3x3 each on 10x10 pixels; the linear layer: 5 outputs of 8 inputs
        ("macs", "aten::_convolution"): 8 * 3 * 3 * 3 * 10 * 10,
        ("activations", "aten::_convolution"): 8 * 10 * 10,
    }
    linear = [key for key in returned if key[1] != "aten::_convolution"]
    assert {kind for kind, _ in linear} == {"macs", "activations"}, f"the linear layer traced as none of {returned}"
    for kind, op in linear:
        expected[kind, op] = 8 * 5 if kind == "macs" else 5
    for key, value in expected.items():
        assert key in returned, f"fvcore never called the {key[0]} handle of {key[1]}: traced ops changed"
        got = returned[key]
        assert isinstance(got, Number | Counter), f"the {key[0]} handle of {key[1]} returned {type(got).__name__}"
        total = sum(got.values()) if isinstance(got, Counter) else got
        assert total == pytest.approx(value), f"the {key[0]} handle of {key[1]} counted {total}, expected {value}"
