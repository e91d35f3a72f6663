"""``upsample`` and ``upsampled``: the trained resolution against the native one, and which factors invent pixels."""

from __future__ import annotations

import numpy as np
import pytest

from scaling_search.data.detail import upsample, upsampled
from scaling_search.errors import InputError


def test_upsample_is_trained_over_native() -> None:
    assert upsample(48, 32) == 1.5
    assert upsample(32, 32) == 1.0
    assert upsample(16, 32) == 0.5
    assert upsample(160, 160) == 1.0
    assert upsample(np.int64(224), 160) == 1.4  # numpy integers, as tables hold them
    assert upsample(48.0, 32) == 1.5  # a whole float is a pixel count too


def test_upsampled_above_one_only() -> None:
    assert upsampled(upsample(48, 32))
    assert upsampled(upsample(33, 32))  # one pixel above native is already interpolation
    assert not upsampled(upsample(32, 32))
    assert not upsampled(upsample(24, 32))  # shrunk: detail lost, nothing invented
    assert not upsampled(1 + 1e-12)  # float noise on an exact 1
    assert not upsampled(0.1 * 3 / 0.3)  # 1.0000000000000002


@pytest.mark.parametrize("trained, native", [(0, 32), (32, 0), (-48, 32), (48.5, 32), (True, 32), ("48", 32),
                                             (float("nan"), 32), (float("inf"), 32), (None, 32)])
def test_upsample_refuses_what_is_no_pixel_count(trained: object, native: object) -> None:
    with pytest.raises(InputError, match="must be a positive integer"):
        upsample(trained, native)  # type: ignore[arg-type]


@pytest.mark.parametrize("factor", [0, -1.5, float("nan"), float("inf"), True, "1.5", None])
def test_upsampled_refuses_what_is_no_factor(factor: object) -> None:
    with pytest.raises(InputError, match="upsample factor must be a positive finite number"):
        upsampled(factor)  # type: ignore[arg-type]
