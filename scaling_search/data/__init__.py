"""Datasets held in memory as uint8 images, and the per-batch augmentation that runs on the training device.

``load_dataset(spec, resolution=...)`` reads ``synthetic`` (built in), ``cifar10``, ``cifar100``,
``fashion-mnist``, ``imagefolder:PATH`` or ``npz:PATH`` into an :class:`ImageData`; ``augment``
turns a uint8 batch into the normalised float batch a candidate trains or evaluates on.
"""

from scaling_search.data.augment import Augmentation, eval_batch, normalisation, train_batch
from scaling_search.data.dataset import DatasetError, ImageData, split_validation
from scaling_search.data.load import KNOWN_SPECS, check_dataset, load_dataset, parse_spec

__all__ = [
    "KNOWN_SPECS",
    "Augmentation",
    "DatasetError",
    "ImageData",
    "check_dataset",
    "eval_batch",
    "load_dataset",
    "normalisation",
    "parse_spec",
    "split_validation",
    "train_batch",
]
