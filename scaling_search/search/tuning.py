"""The Ray Tune run of a study: the Tuner, with the study's searcher, the optional ASHA scheduler and resources.

This is the only module of the search that imports Ray Tune at load time (through the searcher);
the driver imports it only when there are trials to run.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator

import optuna
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from scaling_search.counting.counter import Counter
from scaling_search.data.dataset import ImageData
from scaling_search.execution.trainable import PLANNED_BASE_RESOLUTION, PLANNED_EPOCHS, TrialConfig, TrialSettings
from scaling_search.models.scaling import compound_layout
from scaling_search.search.console import progress_printer
from scaling_search.search.enqueue import space_from_bounds
from scaling_search.search.results import stage_trials
from scaling_search.search.search_plan import grid_spec
from scaling_search.search.searcher import RetryRecorder, StudySearcher
from scaling_search.search.tpe import tpe_suggester
from scaling_search.study.definition import ResolvedDefinition
from scaling_search.study.schema import Stage
from scaling_search.study.storage import OBJECTIVE

TUNE_ENVIRONMENT = {
    # A failed trial's last report has no accuracy to give, by design; Tune's strict metric check would reject it.
    "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",
    # The legacy output engine is the one that honours verbose=0 (no tables on stdout).
    "RAY_AIR_NEW_OUTPUT": "0",
}


@contextlib.contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Set the variables of ``values`` that are not set yet, for the block only; the environment is restored after."""
    added = [name for name in values if name not in os.environ]
    for name in added:
        os.environ[name] = values[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def execute(study: optuna.Study, definition: ResolvedDefinition, data: ImageData, counter: Counter,
            trainable: Callable[..., None], log: Callable[[str], None], stage: str | None = Stage.SEARCH) -> bool:
    """Run the study's WAITING trials (and, in a TPE study's search, new TPE trials) on Ray Tune.

    Returns True when interrupted. ``definition`` is resolved for the device; the study holds its
    search space (``space``) and plan. Each trial trains at its own φ (a refinement trial's is
    twice the study's), and at its own base resolution and epochs when its attributes set them (a
    validation run's); progress counts the trials of ``stage`` (None: every trial of the study).
    """
    use_gpu = definition.device.startswith("cuda")
    settings = TrialSettings(definition.budget(), definition.training_recipe(),
                             threads=max(1, math.floor(definition.cpus_per_trial)), use_gpu=use_gpu)
    spec = grid_spec(definition, data.num_classes)
    # A TPE study samples in its search stage, up to its ``trials`` (set when it was resolved)
    sampled = definition.trials if definition.strategy == "tpe" and stage == Stage.SEARCH else None
    suggest_new = tpe_suggester(spec, counter, sampled) if sampled is not None else None

    def config_for(trial: optuna.Trial) -> TrialConfig:
        params = trial.params
        attrs = trial.user_attrs
        phi = float(attrs.get("phi", definition.phi))
        layout = compound_layout(params["alpha"], params["beta"], params["gamma"], phi,
                                 int(attrs.get(PLANNED_BASE_RESOLUTION, definition.base_resolution)), data.num_classes,
                                 spec.resolution_multiple, base=spec.base)
        return TrialConfig(number=trial.number, seed=params["seed"], layout=layout.to_dict(),
                           planned_epochs=attrs.get(PLANNED_EPOCHS))

    trials = study.get_trials(deepcopy=False)
    trials = trials if stage is None else stage_trials(trials, stage)
    total = sampled if sampled is not None else len(trials)
    already = sum(t.state.is_finished() for t in trials)
    searcher = StudySearcher(study, space_from_bounds(study.user_attrs["space"]), suggest_new, config_for,
                             on_change=progress_printer(total, already, log))
    resources = {"cpu": definition.cpus_per_trial, "gpu": 1 / definition.trials_per_gpu if use_gpu else 0}
    scheduler = None
    if definition.early_stop:
        scheduler = ASHAScheduler(time_attr="epoch", metric=OBJECTIVE, mode="max", max_t=definition.epochs,
                                  grace_period=1)
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(trainable, data=data, settings=settings), resources),
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=-1,
                                    max_concurrent_trials=definition.max_concurrent),
        run_config=tune.RunConfig(
            name=f"run-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=str((definition.study_dir() / "ray").resolve()),
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=definition.max_failures),
            callbacks=[RetryRecorder(searcher)],
        ),
    )
    try:
        with temporary_environment(TUNE_ENVIRONMENT):
            tuner.fit()
    except KeyboardInterrupt:
        return True
    return False
