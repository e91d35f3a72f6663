"""What the dataset tests share: the checks every loaded dataset must pass, and small npz arrays."""

from __future__ import annotations

import numpy as np
import torch

from scaling_search.data.dataset import ImageData

SMALL_SYNTHETIC = "synthetic:classes=4,train=120,test=40"


def check_image_data(data: ImageData, size: int) -> None:
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"{split}_x"), getattr(data, f"{split}_y")
        assert x.dtype == torch.uint8 and x.shape[1:] == (3, size, size) and x.is_contiguous()
        assert y.dtype == torch.int64 and y.shape == (len(x),)
        assert int(y.min()) >= 0 and int(y.max()) < data.num_classes
    assert data.storage_resolution == size
    assert all(0 < m < 1 for m in data.mean) and all(0 < s < 1 for s in data.std)


def arrays(train: int = 40, test: int = 12, size: int = 16, classes: int = 4, grey: bool = False) -> tuple:
    """Images carrying their index in the first pixel, labels cycling over ``classes``."""
    shape = (size, size) if grey else (size, size, 3)
    x_train = np.random.default_rng(0).integers(0, 256, (train, *shape), dtype=np.uint8)
    x_test = np.random.default_rng(1).integers(0, 256, (test, *shape), dtype=np.uint8)
    x_train[:, 0, 0] = np.arange(train).reshape(-1, *([1] * (len(shape) - 2)))
    return x_train, np.arange(train) % classes, x_test, np.arange(test) % classes
