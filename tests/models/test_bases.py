"""The built-in base networks: torchvision's parameter counts and MACs, closed form == fvcore, one builder for all."""

from dataclasses import replace

import pytest
import torch
import torchvision

from scaling_search.counting.analytic import Counts, analytic_counts
from scaling_search.counting.measured import cache_key, fvcore_counts
from scaling_search.errors import InputError
from scaling_search.models.architecture import EFFICIENTNET_B0
from scaling_search.models.bases import BUILT_IN, base_network
from scaling_search.models.network import build, count_parameters, zero_init_residuals
from scaling_search.models.scaling import Layout, base_layout, compound_layout, scale

TORCHVISION_PARAMS = {
    "efficientnet_b0": 5_288_548,
    "mobilenet_v2": 3_504_872,
    "resnet50": 25_557_032,
    "regnet_y_400mf": 4_344_144,
    "efficientnet_v2_s": 21_458_488,
}
"""torchvision's ``num_params`` of each model (its weights' meta), at 1000 classes."""
TORCHVISION_GMACS = {
    "efficientnet_b0": (0.386, 224),
    "mobilenet_v2": (0.301, 224),
    "resnet50": (4.089, 224),
    "regnet_y_400mf": (0.402, 224),
    "efficientnet_v2_s": (8.366, 384),
}
"""torchvision's published ``_ops`` (GFLOPS, i.e. billions of multiply-adds) and the crop it is taken at."""
NAMES = [base.name for base in BUILT_IN]


def default_layout(name: str, num_classes: int = 1000) -> Layout:
    return scale(num_classes=num_classes, base=base_network(name))


@pytest.mark.parametrize("name", NAMES)
def test_parameters_equal_torchvision(name):
    layout = default_layout(name)
    reference = torchvision.models.get_model(name, weights=None)
    assert count_parameters(build(layout)) == analytic_counts(layout).params == TORCHVISION_PARAMS[name]
    assert count_parameters(reference) == TORCHVISION_PARAMS[name]
    shapes = sorted(tuple(p.shape) for p in build(layout).parameters())
    assert shapes == sorted(tuple(p.shape) for p in reference.parameters())  # the same layers, not just the same sum


@pytest.mark.parametrize("name", NAMES)
def test_macs_within_one_percent_of_torchvision(name):
    gmacs, crop = TORCHVISION_GMACS[name]
    weights = torchvision.models.get_model_weights(name).DEFAULT  # the meta ships with torchvision: no download
    assert (weights.meta["_ops"], weights.transforms.keywords["crop_size"]) == (gmacs, crop)
    assert weights.meta["num_params"] == TORCHVISION_PARAMS[name]
    layout = default_layout(name)
    assert layout.resolution == crop  # each base's resolution is torchvision's evaluation crop
    macs = analytic_counts(layout).macs / 1e9
    assert macs == pytest.approx(gmacs, rel=0.01)
    assert round(macs, 3) == gmacs  # in fact equal to torchvision's three decimals


@pytest.mark.parametrize("name", NAMES)
def test_analytic_agrees_with_fvcore_at_default_size(name):
    layout = default_layout(name)
    assert analytic_counts(layout) == fvcore_counts(layout)  # params, MACs and activations, exactly


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("width", "depth", "resolution", "classes"), [(0.73, 1.6, 97, 10), (1.37, 0.6, 130, 7)])
def test_analytic_agrees_with_fvcore_off_grid(name, width, depth, resolution, classes):
    layout = scale(width, depth, resolution, num_classes=classes, base=base_network(name))
    assert analytic_counts(layout) == fvcore_counts(layout)


def test_analytic_agrees_with_fvcore_when_widths_are_adjusted_to_groups():
    """Divisor 4 and bottleneck ratio 0.5 on RegNet, an odd resolution: widths move to fit the group width 8."""
    regnet = base_network("regnet_y_400mf")
    stages = tuple(replace(s, bottleneck_ratio=0.5, out_channels=2 * s.out_channels) for s in regnet.stages[1:])
    base = replace(regnet, stages=stages, rules=replace(regnet.rules, channel_divisor=4))
    layout = scale(0.61, 1.3, 71, num_classes=5, base=base)
    assert layout.channels == [128, 256, 544]  # 416 · 0.61 rounds to 252 (half: 126), 880 · 0.61 to 536 (268)
    assert all(s.bottleneck_ratio * s.out_channels % s.group_width == 0 for s in layout.stages)
    assert analytic_counts(layout) == fvcore_counts(layout)


def test_b0_is_unchanged():
    layout = scale()
    assert layout.base == "efficientnet_b0" and [s.block for s in layout.stages] == ["mbconv"] * 7
    assert analytic_counts(layout) == Counts(params=5_288_548, macs=385_814_752, activations=6_748_036)
    assert base_network("efficientnet_b0") is EFFICIENTNET_B0


def test_b0_structure_key_is_as_before_other_bases():
    """B0's key, and so the disk cache of earlier versions, is unchanged: the six numbers per stage, no stem form."""
    layout = scale(resolution=64, num_classes=10)
    stages = tuple((s.expand_ratio, s.kernel, s.stride, s.in_channels, s.out_channels, s.repeats)
                   for s in layout.stages)
    assert layout.structure_key() == (32, stages, 1280, 10, 64, 0.25)


def test_structure_key_tells_bases_apart():
    keys = {scale(resolution=64, num_classes=10, base=base).structure_key() for base in BUILT_IN}
    assert len(keys) == len(BUILT_IN)
    b0 = scale(resolution=64, num_classes=10)
    fused = replace(b0, stages=tuple(replace(s, block="fused_mbconv") for s in b0.stages))
    pooled = replace(b0, stem_pool=True)
    assert len({cache_key(b0), cache_key(fused), cache_key(pooled)}) == 3


def test_old_layout_dict_loads_as_b0():
    """A layout saved before other bases existed has none of their fields, and reads back as the B0 layout it was."""
    current = scale(1.1, 1.2, 96, num_classes=10)
    old = current.to_dict()
    for key in ("base", "activation", "init", "stem_kernel", "stem_stride", "stem_pool"):
        del old[key]
    for stage in old["stages"]:
        for key in ("block", "bottleneck_ratio", "group_width"):
            del stage[key]
    assert Layout.from_dict(old) == current


@pytest.mark.parametrize("name", NAMES)
def test_layout_round_trips_through_dict(name):
    layout = compound_layout(1.2, 1.1, 1.15, 1, num_classes=10, base=base_network(name))
    assert Layout.from_dict(layout.to_dict()) == layout


@pytest.mark.parametrize("name", NAMES)
def test_zero_init_makes_every_identity_block_the_identity(name):
    layout = scale(0.5, 0.5, 32, num_classes=10, base=base_network(name))
    net = build(layout)
    zero_init_residuals(net)
    net.eval()
    assert torch.count_nonzero(net(torch.randn(2, 3, 32, 32))) == 0
    assert any(block.has_skip for block in net.blocks)
    for block in net.blocks:
        assert (torch.count_nonzero(block.last_norm.weight) == 0) == block.has_skip
        if block.has_skip:
            x = torch.rand(2, block.last_norm.num_features, 8, 8)  # non-negative, as after a ReLU
            assert torch.equal(block(x), x)


def test_blocks_have_their_kinds_structure():
    resnet = build(default_layout("resnet50", 10))
    first = resnet.blocks[0]  # 64 → 256 at stride 1: projected, as torchvision's downsample
    assert not first.has_skip and first.shortcut[0].kernel_size == (1, 1) and first.shortcut[0].stride == (1, 1)
    assert resnet.blocks[3].branch[1][0].stride == (2, 2)  # v1.5: the stride is on the 3×3
    assert isinstance(resnet.stem[-1], torch.nn.MaxPool2d) and isinstance(resnet.head, torch.nn.Identity)
    regnet = build(default_layout("regnet_y_400mf", 10))
    grouped = regnet.blocks[1].branch[1][0]  # 104 channels in groups of 8
    assert grouped.groups == 13 and regnet.blocks[1].branch[2].reduce.out_channels == 12  # round(0.25 · 48)
    assert all(isinstance(m, torch.nn.ReLU6) for m in build(default_layout("mobilenet_v2", 10)).stem[2:])


@pytest.mark.parametrize(("name", "classifier_std"), [("mobilenet_v2", 0.01), ("regnet_y_400mf", 0.01)])
def test_torchvision_init(name, classifier_std):
    """torchvision's init: convs normal(0, sqrt(2 / (k·k·out))), groups ignored; the classifier normal(0, 0.01)."""
    torch.manual_seed(0)
    net = build(default_layout(name))
    conv = net.head[0] if name == "mobilenet_v2" else net.blocks[-1].branch[0][0]
    fan_out = conv.kernel_size[0] * conv.kernel_size[1] * conv.out_channels
    assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.03)
    assert net.classifier.weight.std().item() == pytest.approx(classifier_std, rel=0.03)
    assert torch.count_nonzero(net.classifier.bias) == 0


def test_resnet_classifier_keeps_pytorchs_default_init():
    torch.manual_seed(0)
    net = build(default_layout("resnet50"))
    bound = 1 / 2048**0.5  # nn.Linear's default: uniform(±1/sqrt(in_features)), as torchvision leaves it
    assert net.classifier.weight.abs().max().item() <= bound and torch.count_nonzero(net.classifier.bias) > 0


@pytest.mark.parametrize("name", ["resnet50", "Efficientnet-V2-S", "MOBILENET_V2"])
def test_base_network_names_ignore_case_and_dashes(name):
    assert base_network(name).name == name.lower().replace("-", "_")


def test_unknown_base_lists_the_known_ones():
    with pytest.raises(InputError, match=r"unknown base network 'vgg16'; known: efficientnet_b0, mobilenet_v2, "
                                         r"resnet50, regnet_y_400mf, efficientnet_v2_s, efficientnet_demo, "
                                         r"or a \.toml stage table"):
        base_network("vgg16")


def test_base_layout_takes_the_bases_resolution():
    assert base_layout(base=base_network("efficientnet_v2_s")).resolution == 384
    assert base_layout(64, 10, base=base_network("resnet50")) == scale(resolution=64, num_classes=10, dropout=0.2,
                                                                      base=base_network("resnet50"))


@pytest.mark.parametrize("name", NAMES[1:])
def test_each_base_trains_with_the_proxy_recipe(name):
    """train_proxy builds, zero-initialises (the proxy recipe) and trains any base: one short epoch on CPU."""
    from scaling_search.data.dataset import ImageData
    from scaling_search.training.proxy import train_proxy
    from scaling_search.training.recipe import Budget

    generator = torch.Generator().manual_seed(0)

    def split(count):
        images = torch.randint(0, 256, (count, 3, 24, 24), dtype=torch.uint8, generator=generator)
        return images, torch.arange(count) % 3

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = split(96), split(32), split(32)
    data = ImageData(name="noise", class_names=("a", "b", "c"), train_x=train_x, train_y=train_y, val_x=val_x,
                     val_y=val_y, test_x=test_x, test_y=test_y, mean=(0.5, 0.5, 0.5), std=(0.29, 0.29, 0.29),
                     native_resolution=24)
    layout = scale(0.25, 0.3, 32, num_classes=3, base=base_network(name))
    result = train_proxy(layout, data, Budget(epochs=1), device="cpu", threads=1)
    assert result.status == "ok" and result.val_acc is not None


def test_the_demo_base_is_b0_at_width_0375_with_at_most_two_blocks_a_stage():
    """The CPU demo's base (docs/proxy.md) is B0's own stage table, narrowed by B0's channel rounding and shortened."""
    from scaling_search.models.bases import EFFICIENTNET_DEMO
    from scaling_search.models.rules import round_filters

    assert base_network("efficientnet-demo") == EFFICIENTNET_DEMO and EFFICIENTNET_DEMO not in BUILT_IN
    assert EFFICIENTNET_DEMO.stem_channels == round_filters(EFFICIENTNET_B0.stem_channels, 0.375)
    assert EFFICIENTNET_DEMO.head_channels == round_filters(EFFICIENTNET_B0.head_channels, 0.375)
    for demo, b0 in zip(EFFICIENTNET_DEMO.stages, EFFICIENTNET_B0.stages, strict=True):
        assert demo.out_channels == round_filters(b0.out_channels, 0.375) and demo.repeats == min(b0.repeats, 2)
        assert (demo.expand_ratio, demo.kernel, demo.stride, demo.block) == (b0.expand_ratio, b0.kernel, b0.stride,
                                                                            b0.block)
    assert analytic_counts(base_layout(56, 4, base=EFFICIENTNET_DEMO)).macs < analytic_counts(base_layout(32, 10)).macs
