"""The search: the trial plan, the Ray Tune run over the Optuna study, the stages, the ranked results, the answer."""
