import os

import pytest
import torch

# Two cores: keep each test process from oversubscribing them.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test session gets its own FLOP/dataset cache, never the user's."""
    cache = os.environ.get("SCALING_SEARCH_TEST_CACHE") or str(tmp_path_factory.getbasetemp() / "cache")
    monkeypatch.setenv("SCALING_SEARCH_CACHE", cache)
    return cache


@pytest.fixture
def ray_dir():
    """A short private Ray temp dir (Ray's socket paths must stay under 108 bytes)."""
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="ssray", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)
