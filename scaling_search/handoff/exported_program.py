"""One member as a ``torch.export`` program (``.pt2``): dynamic batch axis, eval mode, loaded and checked before kept.

``torch.export.export`` traces the module in eval mode with the batch axis dynamic;
``torch.export.save`` writes it under a temporary name beside ``path``, and the program
``torch.export.load`` reads back from that file is run on random images against PyTorch
(:func:`~scaling_search.handoff.agreement.check_agreement`). Only a program that loads and agrees
is renamed to ``path``. Needs nothing beyond torch. Its one input is the images (the forward's
``x``, float32 N×3×R×R), its output the logits.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import torch

from scaling_search.handoff.agreement import Agreement, check_agreement, example_images
from scaling_search.models.network import Network


def write_exported_program(model: Network, path: Path) -> Agreement:
    """Export ``model`` (put in eval mode) with ``torch.export`` to ``path`` once the program loaded back agrees.

    Returns what the check found. Run the file with ``torch.export.load(path).module()(images)``.
    """
    model.eval()
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        program = torch.export.export(model, (example_images(model),),
                                      dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
        torch.export.save(program, partial)
        loaded = torch.export.load(partial).module()
        agreement = check_agreement(model, loaded, f"the torch.export program {path.name} loaded back")
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return agreement
