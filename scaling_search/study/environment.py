"""The software a study's results depend on, recorded with the study for its report."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

PACKAGES = ("scaling-search", "torch", "torchvision", "ray", "optuna", "fvcore")


def software_versions() -> dict[str, str]:
    """Python's version and those of :data:`PACKAGES` that are installed."""
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            continue
    return versions
