"""Each public function's docstring holds a short example that runs, prints what it says and is cheap."""

from __future__ import annotations

import doctest
import time

import pytest

from scaling_search.counting.counter import count
from scaling_search.data.augment import Augmentation
from scaling_search.data.load import load_dataset
from scaling_search.device import resolve_device
from scaling_search.family import derive
from scaling_search.grid import GridSpec, candidates
from scaling_search.models.choice import choose_layout
from scaling_search.models.efficientnet import build
from scaling_search.models.scaling import Layout, scale
from scaling_search.train import train_proxy

DOCUMENTED = [scale, Layout, build, count, candidates, GridSpec, derive, load_dataset, train_proxy, choose_layout,
              resolve_device, Augmentation.named]
SECONDS = 30
"""A generous bound on a shared CI machine: on 2 idle cores each example takes under 3 s (train_proxy's under 5 s)."""


@pytest.mark.parametrize("documented", DOCUMENTED, ids=lambda item: item.__qualname__)
def test_docstring_example_runs(documented):
    examples = [test for test in doctest.DocTestFinder(recurse=False).find(documented) if test.examples]
    assert examples, f"{documented.__qualname__} has no >>> example in its docstring"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    started = time.perf_counter()
    for test in examples:
        runner.run(test)
    assert runner.failures == 0, f"{documented.__qualname__}'s example failed (see the output above)"
    assert time.perf_counter() - started < SECONDS
