"""Training-batch preparation: this project's on-device batch augmentation against torchvision's per-image pipeline.

Both turn stored uint8 images into augmented, normalised float32 batches at a candidate's
resolution — random-resized crop (the ``paper`` recipe's scale and ratio), horizontal flip, normalise:

* ``ours``        — :func:`scaling_search.data.augment.train_batch` on a batch gathered by index
  from a uint8 tensor that already lives on the device (what the proxy trainer does each step);
* ``torchvision`` — ``torchvision.transforms.v2`` (``RandomResizedCrop`` with antialiasing,
  ``RandomHorizontalFlip``, ``ToDtype``, ``Normalize``) per image in a ``DataLoader`` with
  ``--workers`` worker processes, the batch then copied to the device: the usual public recipe.

Images/s is the median of ``--repeats`` timings of ``--batches`` batches each, after one warm-up
pass (which also starts torchvision's persistent workers); the ratio is ours / torchvision in the
same run. Nothing is trained: this isolates what the data path costs per step.

    PYTHONPATH=. python benchmarks/data_pipeline.py --device cpu --storage 32 --resolutions 32 64
    PYTHONPATH=. python benchmarks/data_pipeline.py --device cuda --workers 8 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import torch

from scaling_search.data.augment import train_batch
from scaling_search.support.machine import available_cores
from scaling_search.training.recipe import RECIPES

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
AUGMENTATION = RECIPES["paper"].augmentation
"""Random-resized crop and flip: the transform both sides implement (the proxy recipe only resizes)."""


def main() -> int:
    args = parse_args()
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    torch.set_num_threads(args.threads or available_cores())
    images = torch.randint(0, 256, (args.images, 3, args.storage, args.storage), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    rows = [measure(images, resolution, device, args) for resolution in args.resolutions]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    payload = {"device": name, "torch": torch.__version__, "storage": args.storage, "batch": args.batch,
               "workers": args.workers, "augmentation": AUGMENTATION.kind, "rows": rows}
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    print(f"batch preparation on {name}, {args.storage} px uint8 storage, batch {args.batch}, torchvision with "
          f"{args.workers} DataLoader workers; median images/s of {args.repeats} x {args.batches} batches")
    print("res     ours  torchvision  ours/torchvision")
    print("---  -------  -----------  ----------------")
    for row in rows:
        print(f"{row['resolution']:3d}  {row['ours']:7.0f}  {row['torchvision']:11.0f}  {row['ratio']:16.1f}")
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    parser.add_argument("--storage", type=int, default=32, help="side of the stored square images (default 32)")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[32, 64, 128],
                        help="training resolutions (default 32 64 128)")
    parser.add_argument("--batch", type=int, default=256, help="batch size (default 256)")
    parser.add_argument("--images", type=int, default=4096, help="stored images (default 4096)")
    parser.add_argument("--batches", type=int, default=8, help="batches per timing (default 8)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per variant (default 3)")
    parser.add_argument("--workers", type=int, default=None,
                        help="torchvision DataLoader workers (default: the cores this process may use)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: available cores)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    for name in ("storage", "batch", "images", "batches", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    if any(r < 1 for r in args.resolutions):
        parser.error("--resolutions must be >= 1")
    if args.batch > args.images:
        parser.error("--batch must not exceed --images")
    if args.workers is None:
        args.workers = available_cores()
    if args.workers < 0:
        parser.error("--workers must be >= 0")
    return args


def measure(images: torch.Tensor, resolution: int, device: torch.device, args: argparse.Namespace) -> dict:
    ours = images_per_s(ours_batches(images, resolution, device, args), device, args)
    theirs = images_per_s(torchvision_batches(images, resolution, device, args), device, args)
    return {"resolution": resolution, "ours": ours, "torchvision": theirs, "ratio": ours / theirs}


def images_per_s(make_pass: Callable[[], Callable[[], None]], device: torch.device, args: argparse.Namespace) -> float:
    """Median images/s of ``args.repeats`` passes of ``args.batches`` batches, after one warm-up pass."""
    timings = []
    for _ in range(args.repeats + 1):
        run_pass = make_pass()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        run_pass()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        timings.append(time.perf_counter() - start)
    return args.batch * args.batches / statistics.median(timings[1:])


def ours_batches(images: torch.Tensor, resolution: int, device: torch.device, args: argparse.Namespace):
    stored = images.to(device)
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
    generator = torch.Generator(device=device).manual_seed(0)

    def make_pass() -> Callable[[], None]:
        def run_pass() -> None:
            order = torch.randperm(len(stored), generator=generator, device=device)
            for i in range(args.batches):
                index = order[(i * args.batch) % len(stored):][: args.batch]
                train_batch(stored[index], resolution, AUGMENTATION, mean, std, generator=generator)

        return run_pass

    return make_pass


def torchvision_batches(images: torch.Tensor, resolution: int, device: torch.device, args: argparse.Namespace):
    from torch.utils.data import DataLoader, Dataset, RandomSampler
    from torchvision.transforms import v2

    transform = v2.Compose([
        v2.RandomResizedCrop(resolution, scale=AUGMENTATION.scale, ratio=AUGMENTATION.ratio, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(MEAN, STD),
    ])

    class Stored(Dataset):
        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int) -> torch.Tensor:
            return transform(images[i])

    # One endless stream of shuffled batches, read by one iterator for every pass, so no pass pays for (or wastes)
    # the batches prefetched by another. Before each timed pass the batches the workers prepared while nobody was
    # timing (2 per worker, DataLoader's default prefetch) are taken untimed: the timed ones are then produced
    # at the workers' steady rate.
    sampler = RandomSampler(Stored(), replacement=True, num_samples=10**12)
    loader = DataLoader(Stored(), batch_size=args.batch, sampler=sampler, num_workers=args.workers, drop_last=True,
                        pin_memory=device.type == "cuda")
    stream = iter(loader)
    prefetched = 2 * args.workers

    def make_pass() -> Callable[[], None]:
        for _ in range(prefetched):
            next(stream)

        def run_pass() -> None:
            for _ in range(args.batches):
                next(stream).to(device, non_blocking=True)

        return run_pass

    return make_pass

if __name__ == "__main__":
    sys.exit(main())
