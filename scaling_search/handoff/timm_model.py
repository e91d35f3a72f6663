"""``to_timm``: a layout as timm's own model class, ``EfficientNet`` or ``ResNet``, holding exactly our network.

MBConv, inverted-residual and fused-MBConv stages become timm's ``EfficientNet``, built from the
stage table in timm's own block notation (``decode_arch_def``), as timm's ``efficientnet.py``
writes EfficientNet-B0 (``ds``/``ir`` with SE), MobileNetV2 (``ds``/``ir`` without) and
EfficientNetV2 (``cn`` with a skip at expand ratio 1, else ``er``). The channels are already
realised, so timm's rounding is switched off (``round_chs_fn=int``). Bottleneck stages become
timm's ``ResNet`` (``channels=``: each stage's out channels over ``Bottleneck.expansion``); its
drop path schedule is not ours (it drops projection blocks too, at block i/(n − 1)), so each block
gets ours instead: timm's own ``DropPath`` at our rate where the skip is the identity, none where it
is a projection (a block's ``drop_path`` attribute is what its forward applies).
timm's RegNet makes its stage widths from (w0, wa, wm, depth) and takes no stage table, so
``y_block`` stages are refused (``to_torchvision`` builds them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from torch import nn

from scaling_search.errors import InputError
from scaling_search.handoff.extras import require
from scaling_search.handoff.layers import activation_layer, norm_layer
from scaling_search.handoff.limits import block_kinds, fixed, head_conv, stem_form, unexpressed_kinds
from scaling_search.handoff.pairing import adopted
from scaling_search.models.layout import Layout, StageLayout
from scaling_search.models.network import Network
from scaling_search.models.scaling import drop_path_rate

EFFICIENTNET_KINDS = frozenset({"mbconv", "inverted_residual", "fused_mbconv"})
"""The block kinds timm's ``EfficientNet`` builds (its ``ds``/``ir``, ``ir`` without SE, ``cn``/``er`` blocks)."""
RESNET_STEM = 64
"""timm's ``ResNet`` stem width without a deep stem: ``inplanes = stem_width * 2 if deep_stem else 64`` (resnet.py)."""
CREATE_ARGS = {"num_classes": "num_classes", "drop_rate": "dropout", "drop_path_rate": "drop_path"}
"""``timm.create_model``'s keywords that replace a layout field, by timm's name: the layout's name."""
PRETRAINED_CONFIG = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")
"""What ``timm.create_model`` passes every entry point about pretrained weights (``_factory.py``); a layout has none,
so they are ignored, and ``pretrained=True`` is refused."""


def to_timm(source: Layout | Network, **create_args: Any) -> nn.Module:
    """timm's own model class holding exactly the network ``source`` describes, with its weights if it is a network.

    From a layout the model keeps timm's initialisation; from a network built here its weights are
    mapped onto timm's names (:func:`~scaling_search.handoff.weights.timm_state_dict`). Either way each
    layer is checked against ours before the model is returned. The keywords are ``timm.create_model``'s,
    so an entry point registered in timm's registry passes its own on (docs/hand-off.md):
    ``num_classes``, ``drop_rate`` and ``drop_path_rate`` replace the layout's; ``pretrained`` must
    be false and ``in_chans`` 3. Raises InputError, in one line, for a layout timm cannot express
    exactly, a keyword it does not take, or when timm is not installed.

    Example:
        >>> import scaling_search as ss
        >>> layout = ss.scale(width=0.5, depth=0.5, num_classes=10)
        >>> model = ss.to_timm(layout, drop_rate=0.3)
        >>> type(model).__name__, model.drop_rate
        ('EfficientNet', 0.3)
        >>> sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ss.build(layout).parameters())
        True
    """
    if not isinstance(source, Network):
        layout = with_create_args(source, create_args)
        return adopted(timm_network(layout), layout)
    layout = with_create_args(source.layout, create_args)
    if layout.num_classes != source.layout.num_classes:
        raise InputError(f"num_classes {layout.num_classes} is not the network's {source.layout.num_classes}: its "
                         "classifier's weights cannot be mapped")
    return adopted(timm_network(layout), source)


def with_create_args(layout: Layout, create_args: dict[str, Any]) -> Layout:
    """``layout`` with the fields ``timm.create_model``'s keywords set (:data:`CREATE_ARGS`); others checked.

        >>> from scaling_search.models.scaling import scale
        >>> with_create_args(scale(), {"num_classes": 10, "pretrained_cfg": None}).num_classes
        10
        >>> with_create_args(scale(), {"global_pool": "max"})
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: to_timm takes no global_pool; of timm.create_model's keywords it takes \
num_classes, drop_rate, drop_path_rate, pretrained (false) and in_chans (3)
    """
    fields = {}
    for key, value in create_args.items():
        if key in CREATE_ARGS:
            fields[CREATE_ARGS[key]] = value
        elif key == "pretrained" and value:
            raise InputError("a layout has no pretrained weights: pass to_timm a network built here to map its "
                             "weights")
        elif key == "in_chans" and value != 3:
            raise InputError(f"our networks read 3 input channels (RGB), not in_chans={value!r}")
        elif key not in ("pretrained", "in_chans", *PRETRAINED_CONFIG):
            raise InputError(f"to_timm takes no {key}; of timm.create_model's keywords it takes "
                             f"{', '.join(CREATE_ARGS)}, pretrained (false) and in_chans (3)")
    return replace(layout, **fields)


def timm_network(layout: Layout) -> nn.Module:
    """timm's model class built from ``layout``'s stage table, not yet checked layer by layer (:func:`to_timm` is)."""
    require("timm", "to_timm")
    kinds = block_kinds(layout)
    if kinds <= EFFICIENTNET_KINDS:
        return efficientnet(layout)
    if kinds == {"bottleneck"}:
        return resnet(layout)
    raise unexpressed_kinds("timm", layout, "EfficientNet takes mbconv, inverted_residual and fused_mbconv stages "
                            "and ResNet bottleneck stages; its RegNet makes its stage widths from w0, wa, wm and depth "
                            "and takes no stage table")


def block_string(stage: StageLayout, se_ratio: float) -> str:
    """One stage in timm's block notation (``_decode_block_str`` in timm's ``_efficientnet_builder.py``).

        >>> from scaling_search.models.scaling import scale
        >>> [block_string(stage, 0.25) for stage in scale().stages[:2]]
        ['ds_r1_k3_s1_c16_se0.25', 'ir_r2_k3_s2_e6_c24_se0.25']
    """
    shape = f"r{stage.repeats}_k{stage.kernel}_s{stage.stride}"
    expand, out = stage.expand_ratio, stage.out_channels
    if stage.block == "fused_mbconv":
        return f"cn_{shape}_c{out}_skip" if expand == 1 else f"er_{shape}_e{expand}_c{out}"
    se = f"_se{se_ratio!r}" if stage.block == "mbconv" else ""
    return f"ds_{shape}_c{out}{se}" if expand == 1 else f"ir_{shape}_e{expand}_c{out}{se}"


def efficientnet(layout: Layout) -> nn.Module:
    """timm's ``EfficientNet`` of ``layout``'s MBConv, inverted-residual and fused-MBConv stages."""
    from timm.models._efficientnet_builder import decode_arch_def
    from timm.models.efficientnet import EfficientNet

    stem_form("timm's EfficientNet", layout, None, 2, False)
    return EfficientNet(
        decode_arch_def([[block_string(stage, layout.se_ratio)] for stage in layout.stages]),
        num_classes=layout.num_classes,
        num_features=0 if layout.head is None else layout.head,  # 0: no head conv
        stem_size=layout.stem,
        stem_kernel_size=layout.stem_kernel,
        round_chs_fn=int,  # the channels are realised already
        act_layer=activation_layer(layout),
        norm_layer=norm_layer(layout),
        drop_rate=layout.dropout,
        drop_path_rate=layout.drop_path,
    )


def resnet(layout: Layout) -> nn.Module:
    """timm's ``ResNet`` of ``layout``'s bottleneck stages."""
    from timm.models.resnet import Bottleneck, ResNet

    owner = "timm's ResNet"
    stem_form(owner, layout, 7, 2, True)
    fixed(owner, "stem width", layout.stem, RESNET_STEM)
    head_conv(owner, layout, present=False)
    network = ResNet(
        Bottleneck,  # type: ignore[arg-type]  # timm annotates the block class as an instance
        layers=tuple(layout.repeats),
        num_classes=layout.num_classes,
        channels=tuple(out // Bottleneck.expansion for out in layout.channels),
        act_layer=activation_layer(layout),
        norm_layer=norm_layer(layout),
        drop_rate=layout.dropout,
    )
    with_our_drop_path(network, layout)
    return network


def with_our_drop_path(network: nn.Module, layout: Layout) -> None:
    """Give each bottleneck of timm's ``network`` our drop path: our rate where the skip is the identity, else none."""
    from timm.layers import DropPath

    stages = [cast(nn.Sequential, getattr(network, f"layer{index}")) for index in range(1, 5)]
    blocks: list[Any] = [block for stage in stages for block in stage]  # timm's Bottleneck: drop_path may be None
    for index, block in enumerate(blocks):
        rate = drop_path_rate(index, len(blocks), layout.drop_path)
        block.drop_path = DropPath(rate) if block.downsample is None and rate > 0 else None
