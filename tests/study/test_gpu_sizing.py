"""A GPU study that names no proxy resolution trains where γ can be searched for its base and grid."""

from scaling_search.coefficients.faithfulness import DEFAULT_LADDER, PROXY_CLASSES, faithfulness, pick_resolution
from scaling_search.coefficients.grid import GridSpec
from scaling_search.models.bases import base_network
from scaling_search.study.definition import StudyDefinition
from scaling_search.study.sizing import CPU_SIZING, resolve_for_device


def test_an_unset_gpu_resolution_is_the_smallest_where_gamma_can_be_searched():
    definition = StudyDefinition(base="mobilenet_v2", tolerance=0.1)
    spec = GridSpec.from_options(definition, base_resolution=32, num_classes=PROXY_CLASSES,
                                 base=base_network("mobilenet_v2"))
    picked = pick_resolution(faithfulness(spec, DEFAULT_LADDER))
    assert picked is not None
    gpu = resolve_for_device(definition, gpus=1)
    assert gpu.device == "cuda" and gpu.base_resolution == picked
    assert resolve_for_device(StudyDefinition(base="mobilenet_v2", tolerance=0.1, base_resolution=64),
                              gpus=1).base_resolution == 64
    assert resolve_for_device(definition, gpus=0).base_resolution == CPU_SIZING.base_resolution  # CPU: not sized here


def test_b0s_default_gpu_study_trains_at_160_px():
    """64 px, the former default, leaves B0's contenders no gamma > 1 (docs/proxy.md)."""
    assert resolve_for_device(StudyDefinition(), gpus=1).base_resolution == 160
