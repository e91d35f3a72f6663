"""Datasets held in memory as uint8 images, and the per-batch augmentation that runs on the training device.

``load_dataset(spec, resolution=...)`` reads ``synthetic`` (built in), ``cifar10``, ``cifar100``,
``fashion-mnist``, ``imagefolder:PATH`` or ``npz:PATH`` into an :class:`ImageData`; ``augment``
turns a uint8 batch into the normalised float batch a candidate trains or evaluates on.
"""
