"""``load_dataset``: turn a dataset spec string into an ImageData."""

from __future__ import annotations

from pathlib import Path

from scaling_search.data.arrays import check_npz_path, load_npz
from scaling_search.data.dataset import DatasetError, ImageData, Splits, assemble
from scaling_search.data.imagefolder import DecodeProgress, load_imagefolder, split_folders
from scaling_search.data.standard import default_fashion_mnist_root, load_cifar, load_fashion_mnist
from scaling_search.data.synthetic import canonical_name, load_synthetic, parse_options
from scaling_search.models.scaling import MIN_RESOLUTION
from scaling_search.support.cache import default_cache_dir

KNOWN_SPECS = (
    "synthetic[:classes=N,train=N,test=N]",
    "cifar10",
    "cifar100",
    "fashion-mnist",
    "imagefolder:PATH",
    "npz:PATH",
)
MIN_IMAGEFOLDER_STORAGE = 32


def load_dataset(
    spec: str,
    *,
    resolution: int,
    data_root: str | Path | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    download: bool = False,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: DecodeProgress | None = None,
) -> ImageData:
    """Load the dataset ``spec`` names, ready to train on at resolutions up to ``resolution``.

    ``data_root`` is where cifar10/cifar100/fashion-mnist live (default: Debian's Fashion-MNIST
    folder when installed, else ``CACHE/datasets/torchvision``); ``download`` lets torchvision fetch
    them there. ``cache_dir`` holds decoded ImageFolder datasets (default ``CACHE/datasets``), and
    ``workers`` is how many threads decode images (default: one per CPU) and ``progress(decoded, total)``
    hears how decoding goes (an ImageFolder's first load only). The validation split is
    ``val_fraction`` of the training data, chosen with ``seed``; ``seed`` also seeds ``synthetic``.
    A bad spec, argument or file raises :class:`DatasetError` (an InputError) saying what is allowed.

    Example:
        >>> from scaling_search.data.load import load_dataset
        >>> data = load_dataset("synthetic:classes=2,train=20,test=4", resolution=16)
        >>> print(data.summary())
        synthetic:classes=2,train=20,test=4: 18 train / 2 val (carved) / 4 test images, 2 classes, native 16 px
        >>> tuple(data.train_x.shape), data.class_names
        ((18, 3, 16, 16), ('disc-stripes', 'square-stripes'))
    """
    if isinstance(resolution, bool) or int(resolution) != resolution or resolution < MIN_RESOLUTION:
        raise DatasetError(f"resolution must be an integer >= {MIN_RESOLUTION}, got {resolution}")
    if not 0 < val_fraction <= 0.5:
        raise DatasetError(f"val_fraction must lie in (0, 0.5], got {val_fraction}")
    if workers is not None and workers < 1:
        raise DatasetError(f"workers must be >= 1, got {workers}")
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "datasets"
    root = Path(data_root).expanduser() if data_root is not None else None
    try:
        name, splits = load_splits(spec.strip(), int(resolution), root, seed, download, cache_dir, workers, progress)
    except MemoryError:
        raise DatasetError(f"not enough memory to load {spec.strip()} at {resolution} px") from None
    return assemble(name, splits, val_fraction=val_fraction, seed=seed)


def parse_spec(spec: str) -> tuple[str, str]:
    """``(kind, argument)`` of a dataset spec, its syntax checked (synthetic's options too); nothing is read."""
    kind, sep, argument = spec.strip().partition(":")
    argument = argument.strip()
    if kind == "synthetic":
        parse_options(argument)
        return kind, argument
    if kind in ("cifar10", "cifar100", "fashion-mnist") and not sep:
        return kind, ""
    if kind in ("imagefolder", "npz") and argument:
        return kind, argument
    raise DatasetError(f"unknown dataset {spec!r}; known: {', '.join(KNOWN_SPECS)}")


def check_dataset(spec: str) -> None:
    """Fail now, before anything slow starts, when ``spec`` is malformed or its npz file or ImageFolder is missing."""
    kind, argument = parse_spec(spec)
    if kind == "npz":
        check_npz_path(Path(argument).expanduser().resolve())
    elif kind == "imagefolder":
        split_folders(Path(argument).expanduser().resolve())


def load_splits(
    spec: str, resolution: int, root: Path | None, seed: int, download: bool, cache_dir: Path, workers: int | None,
    progress: DecodeProgress | None = None,
) -> tuple[str, Splits]:
    """The dataset's name (its spec, normalised) and its train and test splits."""
    kind, argument = parse_spec(spec)
    if kind == "synthetic":
        options = parse_options(argument)
        return canonical_name(options), load_synthetic(options, resolution, seed)
    if kind in ("cifar10", "cifar100"):
        return kind, load_cifar(root or cache_dir / "torchvision", int(kind[5:]), download)
    if kind == "fashion-mnist":
        return kind, load_fashion_mnist(root or default_fashion_mnist_root(cache_dir / "torchvision"), download)
    path = Path(argument).expanduser().resolve()
    if kind == "npz":
        return f"npz:{path}", load_npz(path)
    storage = max(resolution, MIN_IMAGEFOLDER_STORAGE)
    return f"imagefolder:{path}", load_imagefolder(path, storage, cache_dir, workers, progress)

