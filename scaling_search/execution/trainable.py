"""The function Ray Tune runs in a worker: one proxy training run, reported epoch by epoch.

It never writes the study; the driver does. A training failure (divergence, OOM, an
exception in the candidate) is a result with a status, not a crash, so Tune does not retry
it; only a worker that dies (a killed process, a lost node) is retried, up to
``--max-failures`` times.
"""

from __future__ import annotations

import json
import os
import platform
import traceback
from dataclasses import dataclass, replace
from typing import TypedDict

from scaling_search.data.dataset import ImageData
from scaling_search.models.layout import Layout, LayoutRecord
from scaling_search.training.recipe import Budget, Recipe

PROXY_RESULT = "proxy_result"
"""Key of the final report: the whole ProxyResult as JSON."""
PLANNED_EPOCHS = "planned_epochs"
"""The epochs a trial trains for when not the study's (a validation run's longer budget): the name of the planned
run's field, of its trial attribute and of its :class:`TrialConfig` key. Not ``epochs``, which a finished trial's
result sets to the epochs it actually ran."""
PLANNED_BASE_RESOLUTION = "base_resolution"
"""A trial attribute: the base resolution its network is scaled from, when not the study's."""


class TrialConfig(TypedDict):
    """What Ray Tune hands one trial: its Optuna number, seed and network, and its own epochs (None: the study's)."""

    number: int
    seed: int
    layout: LayoutRecord
    planned_epochs: int | None


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a study shares."""

    budget: Budget
    recipe: Recipe
    threads: int
    use_gpu: bool


def run_trial(config: TrialConfig, data: ImageData, settings: TrialSettings) -> None:
    """Train ``config["layout"]`` on ``config["seed"]``, for ``config["planned_epochs"]`` when the trial sets its own
    (a validation run's longer budget), else the study's ``settings.budget``."""
    from ray import tune

    from scaling_search.training.proxy import train_proxy

    def report(epoch: int, val_acc: float, train_loss: float) -> None:
        tune.report({"epoch": epoch, "val_acc": val_acc, "train_loss": train_loss})

    node_id = _node_id()
    try:
        layout = Layout.from_dict(config["layout"])
        device = "cuda" if settings.use_gpu else "cpu"
        planned_epochs = config["planned_epochs"]
        budget = settings.budget if planned_epochs is None else replace(settings.budget, epochs=int(planned_epochs))
        result = train_proxy(layout, data, budget, settings.recipe, seed=int(config["seed"]),
                             device=device, report=report, threads=settings.threads).to_dict()
    except Exception as err:  # a candidate that cannot even be built is a failed trial, not a retry
        result = {"status": "failed", "reason": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc(limit=5)}
    result.update(node_id=node_id, pid=os.getpid(), hardware=hardware(settings.use_gpu))
    tune.report({"epoch": result.get("epochs") or 0, PROXY_RESULT: json.dumps(result)})


def hardware(use_gpu: bool) -> str:
    """The accelerator (or CPU model) a trial ran on, for reports."""
    import torch

    if use_gpu and torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{cpu_model()} CPU, {torch.get_num_threads()} threads"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _node_id() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # outside Ray (tests calling run_trial directly)
        return None
