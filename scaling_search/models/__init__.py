"""Base networks as immutable data, their scaling rules, realised layouts and one builder.

EfficientNet-B0 is the default base; :func:`base_network` names the others (torchvision's
``mobilenet_v2``, ``resnet50``, ``regnet_y_400mf``, ``efficientnet_v2_s``) or reads a TOML stage
table (:func:`load_base`, format in ``docs/base_networks.md``).
"""

from scaling_search.models.architecture import (
    EFFICIENTNET_B0,
    FAMILY_PHIS,
    IMAGENET_CLASSES,
    PAPER_COEFFICIENTS,
    RELEASED_FAMILY,
    BaseArchitecture,
    ReleasedModel,
    StageSpec,
    released_model,
)
from scaling_search.models.base_file import base_to_toml, load_base, parse_base, write_base
from scaling_search.models.bases import (
    BUILT_IN,
    EFFICIENTNET_V2_S,
    MOBILENET_V2,
    REGNET_Y_400MF,
    RESNET50,
    base_network,
    has_released_family,
    is_table_path,
    released_note,
)
from scaling_search.models.choice import choose_layout
from scaling_search.models.efficientnet import EfficientNet, Network, build, count_parameters
from scaling_search.models.kinds import KINDS, BlockKind, block_kind
from scaling_search.models.rules import (
    ScalingRules,
    bottleneck_width,
    compatible_width,
    head_width,
    make_divisible,
    se_channels_rounded,
    stem_width,
)
from scaling_search.models.scaling import (
    Layout,
    StageLayout,
    base_layout,
    compound_layout,
    drop_path_rate,
    family_dropout,
    released_layout,
    round_filters,
    round_repeats,
    scale,
    scale_resolution,
    se_channels,
)

__all__ = [
    "BUILT_IN",
    "EFFICIENTNET_B0",
    "EFFICIENTNET_V2_S",
    "FAMILY_PHIS",
    "IMAGENET_CLASSES",
    "KINDS",
    "MOBILENET_V2",
    "PAPER_COEFFICIENTS",
    "REGNET_Y_400MF",
    "RELEASED_FAMILY",
    "RESNET50",
    "BaseArchitecture",
    "BlockKind",
    "EfficientNet",
    "Layout",
    "Network",
    "ReleasedModel",
    "ScalingRules",
    "StageLayout",
    "StageSpec",
    "base_layout",
    "base_network",
    "base_to_toml",
    "block_kind",
    "bottleneck_width",
    "build",
    "choose_layout",
    "compatible_width",
    "compound_layout",
    "count_parameters",
    "drop_path_rate",
    "family_dropout",
    "has_released_family",
    "head_width",
    "is_table_path",
    "load_base",
    "make_divisible",
    "parse_base",
    "released_layout",
    "released_model",
    "released_note",
    "round_filters",
    "round_repeats",
    "scale",
    "scale_resolution",
    "se_channels",
    "se_channels_rounded",
    "stem_width",
    "write_base",
]
