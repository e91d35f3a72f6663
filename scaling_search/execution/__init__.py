"""Running trials on Ray Tune: the cluster, the Tuner, a searcher backed by the Optuna study, the worker's function."""
