"""Flags shared by several commands: one definition each, defaults from the library, bounds from the library."""

from __future__ import annotations

import json

import pytest

from scaling_search.cli import build_parser, main
from scaling_search.cli.derive import given_coefficients
from scaling_search.coefficients.grid import GridSpec
from scaling_search.models.architecture import EFFICIENTNET_B0, FAMILY_PHIS, PAPER_COEFFICIENTS
from scaling_search.models.scaling import scale
from scaling_search.training.recipe import PROXY_RESOLUTION

GRID_FIELDS = ("phi", "step", "alpha_range", "beta_range", "gamma_range", "target", "tolerance", "constraint",
               "baselines")


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def error_line(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scaling-search: error: ")
    return lines[0]


def test_candidates_shows_and_sets_the_grids_defaults():
    args = parse("candidates")
    defaults = GridSpec()
    assert {name: getattr(args, name) for name in GRID_FIELDS} == {name: getattr(defaults, name)
                                                                   for name in GRID_FIELDS}
    assert (args.base_resolution, args.num_classes, args.counter) == (defaults.base_resolution, defaults.num_classes,
                                                                       "fvcore")


def test_run_sets_no_default_so_a_study_file_keeps_its_values():
    args = vars(parse("run"))
    assert not set(GRID_FIELDS) & set(args)
    assert not {"dataset", "data_root", "download", "recipe", "device", "epochs", "base_resolution"} & set(args)
    given = parse("run", "--phi", "2", "--alpha-range", "1:1.5", "--dataset", "cifar10", "--recipe", "paper")
    assert (given.phi, given.alpha_range, given.dataset, given.recipe) == (2.0, (1.0, 1.5), "cifar10", "paper")


def test_help_shows_the_library_defaults(capsys):
    for command in ("candidates", "run"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "alpha range (default 1:2)" in text and "(default 0.05)" in text


def test_derive_defaults_are_the_papers_coefficients_and_the_released_phis():
    args = parse("derive")
    assert (args.alpha, args.beta, args.gamma, args.fast) == (None,) * 4  # unset, so --fast can refuse them
    assert given_coefficients(args) == PAPER_COEFFICIENTS
    assert args.phis == list(FAMILY_PHIS)
    assert args.base_resolution == EFFICIENTNET_B0.base_resolution
    assert parse("derive", "--phis=-1,0").phis == [-1.0, 0.0]


def test_each_command_names_a_network_the_same_ways_with_its_own_default_resolution(capsys, tmp_path):
    assert main(["flops", "--counter", "analytic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolution"] == EFFICIENTNET_B0.base_resolution
    assert main(["flops", "--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15", "--phi", "1", "--counter",
                 "analytic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["resolution"] == 258
    config = tmp_path / "layout.json"
    config.write_text(json.dumps(scale(0.5, 0.5, 48, num_classes=10).to_dict()))
    assert main(["flops", "--config", str(config), "--counter", "analytic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_classes"] == 10  # a layout file keeps its classifier
    assert main(["flops", "--config", str(config), "--num-classes", "5", "--counter", "analytic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_classes"] == 5
    assert parse("train").resolution is None and PROXY_RESOLUTION == 64  # train's B0 is at 64 px, flops' at 224


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # the bound is the library's, so every command taking the flag says the same
        (["candidates", "--tolerance", "-1"], r"tolerance must lie in (0, 1), got -1.0"),
        (["candidates", "--alpha-range", "0:1"], "alpha range must start at >= 1"),
        (["candidates", "--alpha-range", "2:1"], "alpha range has min 2.0 > max 1.0"),
        (["candidates", "--base-resolution", "4"], "base resolution must lie in [8, 4096], got 4"),
        (["candidates", "--step", "abc"], "argument --step: not a number: 'abc'"),
        (["derive", "--alpha", "0"], "alpha must be a finite number >= 1"),
        (["derive", "--gamma", "0.9", "--counter", "analytic"], "gamma must be a finite number >= 1"),
        (["derive", "--base-resolution", "0", "--counter", "analytic"], "base resolution must be an integer in"),
        (["derive", "--phis", "7-0"], "argument --phis: phi range '7-0' has min > max"),
        (["flops", "--width", "-1"], r"width must be a number in (0, 64], got -1.0"),
        (["flops", "--width", "1.1", "--model", "b1"], "width and model describe the network in different ways"),
        (["flops", "--num-classes", "0"], "num_classes must be an integer in [1, 100000], got 0"),
        (["flops", "--resolution", "1.5"], "argument --resolution: not an integer: '1.5'"),
    ],
)
def test_bounds_come_from_the_library(capsys, argv, message):
    assert message in error_line(capsys, *argv)


def test_run_and_candidates_refuse_the_same_grid_the_same_way(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for flag, value in (("--tolerance", "-1"), ("--alpha-range", "0:1"), ("--step", "0")):
        run = error_line(capsys, "run", flag, value)
        candidates = error_line(capsys, "candidates", flag, value)
        assert run == candidates, (run, candidates)
