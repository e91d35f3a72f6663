"""Pairing two networks layer by layer: settings that leave the shapes alone still count, and so does the order."""

from __future__ import annotations

import pytest
from torch import nn

from scaling_search.errors import InputError
from scaling_search.handoff.pairing import key_map, weighted_layers


class Shortcut(nn.Module):
    """A block registering its shortcut before its branch, as torchvision's RegNet ``ResBottleneckBlock`` does."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(8, 8, 1, bias=False)
        self.f = nn.Conv2d(8, 8, 1, bias=False)


def test_a_stride_alone_tells_two_networks_apart():
    ours = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False))
    theirs = nn.Sequential(nn.Conv2d(3, 8, 3, stride=1, padding=1, bias=False))
    with pytest.raises(InputError, match=r"^torch's Sequential cannot express this layout exactly: its 0 is "
                                         r"Conv2d\(3, 8, .*stride=\(1, 1\).* where ours \(0\) is .*stride=\(2, 2\)"):
        key_map(ours, theirs)


def test_a_batchnorm_eps_alone_tells_two_networks_apart():
    with pytest.raises(InputError, match=r"eps=1e-05.* where ours \(0\) is BatchNorm2d\(8, eps=0\.001"):
        key_map(nn.Sequential(nn.BatchNorm2d(8, eps=1e-3)), nn.Sequential(nn.BatchNorm2d(8)))


def test_a_layer_left_over_is_named():
    ours = nn.Sequential(nn.Conv2d(3, 8, 1, bias=False), nn.BatchNorm2d(8))
    with pytest.raises(InputError, match=r"it has 1 layers with weights and ours 2 \(the first unpaired is our 1\)$"):
        key_map(ours, nn.Sequential(nn.Conv2d(3, 8, 1, bias=False)))


def test_late_children_pair_after_their_siblings():
    block = Shortcut()
    assert [name for name, _ in weighted_layers(block)] == ["proj", "f"]
    assert [name for name, _ in weighted_layers(block, late=("proj",))] == ["f", "proj"]
    ours = nn.Sequential()
    ours.add_module("branch", nn.Conv2d(8, 8, 1, bias=False))
    ours.add_module("shortcut", nn.Conv2d(8, 8, 1, bias=False))
    assert key_map(ours, block, late=("proj",)) == {"branch.weight": "f.weight", "shortcut.weight": "proj.weight"}
