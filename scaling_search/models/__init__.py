"""EfficientNet family: immutable architecture data, scaling rules and one builder."""

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
from scaling_search.models.choice import choose_layout
from scaling_search.models.efficientnet import EfficientNet, build, count_parameters
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
    "EFFICIENTNET_B0",
    "FAMILY_PHIS",
    "IMAGENET_CLASSES",
    "PAPER_COEFFICIENTS",
    "RELEASED_FAMILY",
    "BaseArchitecture",
    "EfficientNet",
    "Layout",
    "ReleasedModel",
    "StageLayout",
    "StageSpec",
    "base_layout",
    "build",
    "choose_layout",
    "compound_layout",
    "count_parameters",
    "drop_path_rate",
    "family_dropout",
    "released_layout",
    "released_model",
    "round_filters",
    "round_repeats",
    "scale",
    "scale_resolution",
    "se_channels",
]
