"""Choosing the training device: auto, cpu or a CUDA device this machine has; anything else is bad input."""

from __future__ import annotations

import pytest
import torch

from scaling_search.errors import InputError
from scaling_search.training.device import resolve_device


def test_cpu_and_auto():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "", "mps"])
def test_unknown_devices_are_input_errors(name):
    with pytest.raises(InputError, match=r"device must be auto, cpu, cuda or cuda:N, not "):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_an_input_error():
    with pytest.raises(InputError, match="device cuda: CUDA is not available on this machine"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_device_past_the_last_is_an_input_error():
    name = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(InputError, match=f"this machine has {torch.cuda.device_count()} CUDA device"):
        resolve_device(name)
