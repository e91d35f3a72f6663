"""``to_torchvision``: a layout as torchvision's own model class holding exactly our network, where one can.

Each block kind goes to the class whose reference our base follows (``torchvision/models/*.py``):
MBConv and fused-MBConv stages to ``EfficientNet`` (``MBConvConfig``/``FusedMBConvConfig`` at
width and depth multiplier 1, as the channels and repeats are realised already, and
``last_channel`` = the layout's head), inverted-residual stages to ``MobileNetV2``, bottleneck
stages to ``ResNet`` and RegNetY blocks to ``RegNet`` (``BlockParams`` per stage). What a class
hard-codes (its activation, stem, SE ratio, ResNet's stage widths) or lacks (dropout, stochastic
depth) a layout must match (:mod:`~scaling_search.handoff.limits`), or it is refused in one line.
"""

from __future__ import annotations

from torch import nn

from scaling_search.handoff.layers import activation_layer, norm_layer
from scaling_search.handoff.limits import absent, block_kinds, fixed, head_conv, stem_form, unexpressed_kinds
from scaling_search.handoff.pairing import adopted
from scaling_search.models.layout import Layout
from scaling_search.models.network import Network

LATE_CHILDREN = ("proj",)
"""Children that torchvision registers before the branch its forward pass runs first: RegNet's shortcut ``proj``."""
RESNET_WIDTHS = (256, 512, 1024, 2048)
"""torchvision's ``ResNet`` stage widths with ``Bottleneck``: ``_make_layer(block, 64 … 512)`` × its expansion 4."""
RESNET_STEM = 64
"""torchvision's ``ResNet`` stem width (``self.inplanes = 64`` in resnet.py)."""
SE_RATIO = 0.25
"""torchvision's ``MBConv`` squeezes to a quarter of the block's input (``max(1, cnf.input_channels // 4)``)."""
NO_DROP_PATH = "has no stochastic depth"
NO_DROPOUT = "has no classifier dropout"


def to_torchvision(source: Layout | Network) -> nn.Module:
    """torchvision's own model class holding exactly the network ``source`` describes, with its weights if a network.

    From a layout the model keeps torchvision's initialisation; from a network built here its
    weights are mapped onto torchvision's names (:func:`~scaling_search.handoff.weights.torchvision_state_dict`).
    Either way each layer is checked against ours before the model is returned. Raises InputError,
    in one line, for a layout torchvision cannot express exactly: ResNet's stage widths, a block kind
    or activation a class hard-codes otherwise, or a dropout or drop path the class lacks.

    Example:
        >>> import scaling_search as ss
        >>> layout = ss.scale(width=0.5, depth=0.5, num_classes=10)
        >>> model = ss.to_torchvision(layout)
        >>> type(model).__name__
        'EfficientNet'
        >>> sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ss.build(layout).parameters())
        True
        >>> ss.to_torchvision(ss.scale(width=1.1, base=ss.base_network("resnet50")))
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: torchvision's ResNet fixes the stage widths at (256, 512, 1024, 2048); \
this layout has (280, 560, 1128, 2256)
    """
    layout = source.layout if isinstance(source, Network) else source
    return adopted(torchvision_network(layout), source, LATE_CHILDREN)


def torchvision_network(layout: Layout) -> nn.Module:
    """torchvision's model class built from ``layout``'s stage table, not yet checked layer by layer."""
    kinds = block_kinds(layout)
    if kinds <= {"mbconv", "fused_mbconv"}:
        return efficientnet(layout)
    if kinds == {"inverted_residual"}:
        return mobilenet_v2(layout)
    if kinds == {"bottleneck"}:
        return resnet(layout)
    if kinds == {"y_block"}:
        return regnet(layout)
    raise unexpressed_kinds("torchvision", layout, "EfficientNet takes mbconv and fused_mbconv stages, MobileNetV2 "
                            "inverted_residual, ResNet bottleneck and RegNet y_block stages, one class each")


def efficientnet(layout: Layout) -> nn.Module:
    """torchvision's ``EfficientNet`` of ``layout``'s MBConv and fused-MBConv stages."""
    from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig

    owner = "torchvision's EfficientNet"
    fixed(owner, "activation", layout.activation, "silu")
    stem_form(owner, layout, 3, 2, False)
    head_conv(owner, layout, present=True)
    if "mbconv" in block_kinds(layout):
        fixed(owner, "SE ratio", layout.se_ratio, SE_RATIO)
    settings = [(MBConvConfig if stage.block == "mbconv" else FusedMBConvConfig)(
        stage.expand_ratio, stage.kernel, stage.stride, stage.in_channels, stage.out_channels, stage.repeats)
        for stage in layout.stages]
    return EfficientNet(settings, dropout=layout.dropout, stochastic_depth_prob=layout.drop_path,
                        num_classes=layout.num_classes, norm_layer=norm_layer(layout), last_channel=layout.head)


def mobilenet_v2(layout: Layout) -> nn.Module:
    """torchvision's ``MobileNetV2`` of ``layout``'s inverted-residual stages.

    Its stem and head come from ``width_mult`` alone (``_make_divisible(32 · w)`` and
    ``_make_divisible(1280 · max(1, w))``), so it is the layout's width; each stage's ``c`` is then
    the channel count that ``width_mult`` rounds to the stage's realised width.
    """
    from torchvision.models.mobilenetv2 import MobileNetV2

    owner = "torchvision's MobileNetV2"
    fixed(owner, "activation", layout.activation, "relu6")
    stem_form(owner, layout, 3, 2, False)
    head_conv(owner, layout, present=True)
    absent(owner, "drop_path", layout.drop_path, NO_DROP_PATH)
    setting = [[stage.expand_ratio, round(stage.out_channels / layout.width), stage.repeats, stage.stride]
               for stage in layout.stages]
    return MobileNetV2(num_classes=layout.num_classes, width_mult=layout.width, inverted_residual_setting=setting,
                       norm_layer=norm_layer(layout), dropout=layout.dropout)


def resnet(layout: Layout) -> nn.Module:
    """torchvision's ``ResNet`` of ``layout``'s bottleneck stages: its depths only, as its widths are fixed."""
    from torchvision.models.resnet import Bottleneck, ResNet

    owner = "torchvision's ResNet"
    fixed(owner, "stage widths", tuple(layout.channels), RESNET_WIDTHS)
    fixed(owner, "activation", layout.activation, "relu")
    stem_form(owner, layout, 7, 2, True)
    fixed(owner, "stem width", layout.stem, RESNET_STEM)
    head_conv(owner, layout, present=False)
    absent(owner, "dropout", layout.dropout, NO_DROPOUT)
    absent(owner, "drop_path", layout.drop_path, NO_DROP_PATH)
    return ResNet(Bottleneck, list(layout.repeats), num_classes=layout.num_classes, norm_layer=norm_layer(layout))


def regnet(layout: Layout) -> nn.Module:
    """torchvision's ``RegNet`` of ``layout``'s RegNetY stages, one ``BlockParams`` entry per stage."""
    from torchvision.models.regnet import BlockParams, RegNet

    owner = "torchvision's RegNet"
    stem_form(owner, layout, 3, 2, False)
    head_conv(owner, layout, present=False)
    absent(owner, "dropout", layout.dropout, NO_DROPOUT)
    absent(owner, "drop_path", layout.drop_path, NO_DROP_PATH)
    stages = layout.stages
    params = BlockParams(depths=[s.repeats for s in stages], widths=[s.out_channels for s in stages],
                         group_widths=[s.group_width for s in stages],
                         bottleneck_multipliers=[s.bottleneck_ratio for s in stages],
                         strides=[s.stride for s in stages], se_ratio=layout.se_ratio)
    return RegNet(params, num_classes=layout.num_classes, stem_width=layout.stem, norm_layer=norm_layer(layout),
                  activation=activation_layer(layout))
