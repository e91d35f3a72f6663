"""The search: study definitions, the trial plan, Ray Tune execution and the Optuna study behind it."""
