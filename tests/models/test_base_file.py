"""TOML stage tables: the example loads, every base round-trips, and each bad table is one line naming the problem."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from scaling_search.counting.analytic import analytic_counts
from scaling_search.counting.measured import fvcore_counts
from scaling_search.errors import InputError
from scaling_search.models.architecture import BaseArchitecture, StageSpec
from scaling_search.models.base_file import base_to_toml, load_base, parse_base, write_base
from scaling_search.models.bases import BUILT_IN, base_network
from scaling_search.models.network import build, count_parameters
from scaling_search.models.rules import ScalingRules
from scaling_search.models.scaling import scale

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "studies" / "bases" / "example_net.toml"

GOOD = """
name = "good"
stem_channels = 32
base_resolution = 128
head_channels = 512

[rules]
depth_rounding = "round"

[[stages]]
block = "mbconv"
expand_ratio = 4
stride = 2
out_channels = 32
repeats = 2

[[stages]]
block = "y_block"
group_width = 8
stride = 2
out_channels = 64
repeats = 2
"""


def test_example_table_loads_builds_and_counts_as_fvcore():
    base = load_base(EXAMPLE)
    assert base.name == "example_net" and [s.block for s in base.stages] == [
        "fused_mbconv", "fused_mbconv", "mbconv", "y_block", "bottleneck"]
    assert base.rules.depth_rounding == "round" and base.rules.head_scaling == "grow"
    assert base_network(str(EXAMPLE)) == base == base_network(EXAMPLE)
    layout = scale(0.73, 1.3, 67, num_classes=10, base=base)
    assert layout.base == "example_net" and layout.head == 1024  # the head never shrinks ("grow")
    assert count_parameters(build(layout)) == analytic_counts(layout).params
    assert analytic_counts(layout) == fvcore_counts(layout)


def test_docs_example_is_the_example_table():
    """The full example in docs/base_networks.md is the file in studies/bases, so the docs cannot drift."""
    text = (ROOT / "docs" / "base_networks.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert any(parse_base(block) == load_base(EXAMPLE) for block in blocks)


@pytest.mark.parametrize("base", [*BUILT_IN, "example"], ids=lambda b: getattr(b, "name", b))
def test_round_trip(base, tmp_path):
    base = load_base(EXAMPLE) if base == "example" else base
    write_base(base, tmp_path / "base.toml")
    assert load_base(tmp_path / "base.toml") == base
    assert parse_base(base_to_toml(base)) == base


def test_round_trip_of_overridden_rules():
    resnet = base_network("resnet50")
    custom = replace(resnet, name="resnet50 \"ceil\"", rules=replace(resnet.rules, depth_rounding="ceil",
                                                                      min_channels=16), bn_eps=1.5e-7)
    assert parse_base(base_to_toml(custom)) == custom
    assert scale(depth=1.1, base=custom).repeats == [4, 5, 7, 4]  # ceil, where resnet50's "round" gives 3, 4, 7, 3
    assert scale(depth=1.1, base=resnet).repeats == [3, 4, 7, 3]


def bad(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


BAD_TABLES = [
    (bad('block = "mbconv"', 'block = "mbconvv"'),
     "t.toml: stage 1: unknown block kind 'mbconvv'; known: mbconv, fused_mbconv, inverted_residual, "
     "bottleneck, y_block"),
    (bad("group_width = 8", "group_width = 24"),
     "t.toml: stage 2: group width 24 does not divide the bottleneck width 64 (64 channels × bottleneck ratio 1)"),
    (bad("stride = 2", "stride = 3"), "t.toml: stage 1: stride must be 1 or 2, got 3"),
    (GOOD[:GOOD.index("[[stages]]")].replace("[rules]", "stages = []\n[rules]"),
     "t.toml: a base network needs at least one stage"),
    (GOOD[:GOOD.index("[[stages]]")], "t.toml: missing field 'stages'"),
    (bad("expand_ratio = 4", "expand_ratio = 4\nkernal = 3"), "t.toml: stage 1: unknown field 'kernal'; known: "
     "expand_ratio, kernel, stride, out_channels, repeats, block, bottleneck_ratio, group_width"),
    (bad("head_channels = 512", "head_channels = 512\nwidth = 2"), "t.toml: unknown field 'width'; known: name, "),
    (bad('depth_rounding = "round"', "depth_round = 1"), "t.toml: rules: unknown field 'depth_round'; known: "),
    (bad('depth_rounding = "round"', 'depth_rounding = "floor"'),
     "t.toml: rules: depth_rounding must be one of ceil, round, got 'floor'"),
    (bad("repeats = 2\n", ""), "t.toml: stage 1: missing field 'repeats'"),
    (bad('name = "good"\n', ""), "t.toml: missing field 'name'"),
    (bad("repeats = 2", "repeats = 0"), "t.toml: stage 1: repeats must be an integer in [1, 1024], got 0"),
    (bad("out_channels = 64", "out_channels = -64"), "t.toml: stage 2: out_channels must be an integer in"),
    (bad("head_channels = 512", "head_channels = 0"), "t.toml: head_channels must be an integer in"),
    (bad("stem_channels = 32", "stem_channels = 32.5"), "t.toml: stem_channels must be an integer in"),
    (bad("expand_ratio = 4", "expand_ratio = 4\ngroup_width = 8"),
     "t.toml: stage 1: mbconv takes no group_width (got 8)"),
    (bad("expand_ratio = 4", "expand_ratio = 4\nkernel = 4"), "t.toml: stage 1: kernel must be odd, got 4"),
    (bad('name = "good"', 'name = "good"\nactivation = "gelu"'),
     "t.toml: activation must be one of silu, relu, relu6, got 'gelu'"),
    (bad("head_channels = 512", "head_channels = 512\nstages = 3"), "t.toml is not valid TOML"),
    (bad('name = "good"', 'name = "good'), "t.toml is not valid TOML"),
    (bad('[rules]\ndepth_rounding = "round"', "rules = 5"), "t.toml: rules must be a table ([rules])"),
]
"""(stage table, the start of its one-line error)."""


@pytest.mark.parametrize(("text", "message"), BAD_TABLES,
                         ids=[message.removeprefix("t.toml").lstrip(": ")[:50] for _, message in BAD_TABLES])
def test_bad_table_is_one_line_naming_the_problem(text, message):
    with pytest.raises(InputError) as caught:
        parse_base(text, "t.toml")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="stage table not found"):
        load_base(tmp_path / "missing.toml")
    with pytest.raises(InputError, match="is a folder"):
        load_base(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_base(tmp_path / "latin1.toml")


def test_dataclasses_check_themselves():
    """The checks are in the dataclasses, so a base written in Python fails as a TOML file does."""
    with pytest.raises(InputError, match="unknown block kind 'conv'"):
        StageSpec(1, 3, 1, 16, 1, block="conv")
    with pytest.raises(InputError, match="bottleneck takes no expand_ratio"):
        StageSpec(6, 3, 1, 256, 3, block="bottleneck")
    with pytest.raises(InputError, match="at least one stage"):
        replace(base_network("resnet50"), stages=())
    with pytest.raises(InputError, match="stem_stride must be 1 or 2"):
        replace(base_network("resnet50"), stem_stride=4)
    with pytest.raises(InputError, match="min_channels must be an integer"):
        ScalingRules(min_channels=0)
    assert isinstance(base_network("resnet50"), BaseArchitecture)
