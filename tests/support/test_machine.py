"""One answer to "does it fit in memory?", and every check that asks it keeps its own message."""

from __future__ import annotations

import pytest

from scaling_search.counting.counter import memory_bound_workers
from scaling_search.counting.measured import check_measurable, measuring_bytes
from scaling_search.data.dataset import DatasetError, check_fits_in_memory
from scaling_search.errors import InputError
from scaling_search.models.scaling import scale
from scaling_search.support import machine
from scaling_search.support.machine import GIB, MemoryFit, memory_fit
from scaling_search.training.proxy import check_fits_on_cpu


@pytest.fixture
def one_gib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "physical_memory", lambda: GIB)


def test_memory_fit_counts_whole_blocks_in_a_share(one_gib):
    assert memory_fit(GIB // 2) == MemoryFit(copies=2, total=GIB)
    assert memory_fit(GIB // 2, share=0.5).copies == 1
    assert memory_fit(GIB + 1).copies == 0
    assert memory_fit(0).copies == GIB  # nothing needed: no division by zero


def test_unknown_memory_refuses_nothing(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(machine, "physical_memory", lambda: None)
    assert memory_fit(10 * GIB) is None
    check_fits_in_memory(10**9, 512, "huge")
    check_fits_on_cpu(scale(8.0, 1.0, 512), 256)
    check_measurable(scale(8.0, 1.0, 512))
    assert memory_bound_workers([scale(8.0, 1.0, 512)]) == 1 << 30


def test_every_check_uses_it_with_its_own_message(one_gib):
    with pytest.raises(DatasetError, match=r"huge: loading 1000000 images at 64x64 px needs about 22.9 GiB, more "
                                           r"than this machine's 1.0 GiB of memory"):
        check_fits_in_memory(10**6, 64, "huge")
    with pytest.raises(InputError, match=r"at batch 256 needs at least .* GiB, more than this machine's 1.0 GiB"):
        check_fits_on_cpu(scale(1.0, 1.0, 512), 256)
    with pytest.raises(InputError, match=r"more than half this machine's 1.0 GiB; use --counter analytic"):
        check_measurable(scale(4.0, 2.0, 224))
    small = scale(0.25, 0.25, 32)
    assert memory_bound_workers([small]) == GIB // 2 // measuring_bytes(small)
    assert memory_bound_workers([scale(4.0, 2.0, 224)]) == 1  # none fits: still one at a time
