import os

import pytest
import torch

# Two cores: keep each test process from oversubscribing them.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """The FLOP/dataset cache of this test session, never the user's."""
    return os.environ.get("SCALING_SEARCH_TEST_CACHE") or str(tmp_path_factory.getbasetemp() / "cache")


@pytest.fixture(autouse=True)
def isolated_cache(cache_dir, monkeypatch):
    """Every test session gets its own FLOP/dataset cache, never the user's."""
    monkeypatch.setenv("SCALING_SEARCH_CACHE", cache_dir)
    return cache_dir


@pytest.fixture
def ray_dir():
    """A short private Ray temp dir (Ray's socket paths must stay under 108 bytes)."""
    from tests.search_helpers import short_temp_dir

    with short_temp_dir() as path:
        yield path


@pytest.fixture
def callers_ray(ray_dir):
    """A Ray session of the test's own (as a library user would start one), shut down after the test.

    ``ray.init`` leaves RAY_AUTH_MODE=token behind, which later drivers would inherit: the
    environment is put back as it was.
    """
    import ray

    environment = dict(os.environ)
    ray.init(num_cpus=os.cpu_count(), _temp_dir=ray_dir, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        os.environ.clear()
        os.environ.update(environment)
