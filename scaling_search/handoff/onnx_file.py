"""One member as an ONNX file: dynamic batch axis, input ``images``, output ``logits``, eval mode, checked before kept.

The file is written by ``torch.onnx.export`` (its ``torch.export``-based exporter, which needs
onnx and onnxscript) under a temporary name beside ``path``, loaded into ONNX Runtime and run
on random images against PyTorch (:func:`~scaling_search.handoff.agreement.check_agreement`);
only a file that agrees is renamed to ``path``. A file that does not is removed and the
difference raised (:class:`~scaling_search.handoff.agreement.DeployCheckError`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import ModuleType

import torch

from scaling_search.handoff.agreement import Agreement, check_agreement, example_images
from scaling_search.handoff.extras import require
from scaling_search.handoff.manifest import INPUT_NAME, OUTPUT_NAME
from scaling_search.models.network import Network

PURPOSE = "writing ONNX files"


def require_onnx() -> ModuleType:
    """Import what writing and checking ONNX files needs (InputError naming the extra when one is missing); returns
    ONNX Runtime."""
    require("onnx", PURPOSE)
    require("onnxscript", PURPOSE)
    return require("onnxruntime", PURPOSE)


def write_onnx(model: Network, path: Path) -> Agreement:
    """Write ``model`` (put in eval mode) to the ONNX file ``path`` once ONNX Runtime agrees with PyTorch on it.

    The batch axis is dynamic (named ``batch``); the input is ``images`` (float32, N×3×R×R at the
    layout's resolution R) and the output ``logits`` (N×classes). Returns what the check found.
    """
    runtime = require_onnx()
    model.eval()
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        torch.onnx.export(model, (example_images(model),), partial, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_shapes=({0: torch.export.Dim("batch", min=1)},),
                          dynamo=True, external_data=False, verbose=False)
        session = runtime.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
        agreement = check_agreement(model, lambda images: session.run([OUTPUT_NAME], {INPUT_NAME: images.numpy()})[0],
                                    f"the ONNX file {path.name} in ONNX Runtime")
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return agreement
