"""`scaling-search train`: JSON keys, exit codes, one-line errors, choosing the network, --config round trip."""

import argparse
import json
import re

import pytest
import torch

from scaling_search.cli import flags
from scaling_search.errors import InputError
from scaling_search.models.choice import choose_layout
from scaling_search.models.scaling import Layout
from scaling_search.training.recipe import PROXY_RESOLUTION
from tests.cli_helpers import cli_error, run_cli

TINY = ["--width", "0.25", "--depth", "0.25", "--resolution", "32"]
QUICK = ["--dataset", "synthetic:classes=4,train=96,test=32", "--epochs", "1", "--batch-size", "32",
         "--device", "cpu", "--threads", "1"]
KEYS = {"status", "val_acc", "best_val_acc", "test_acc", "epochs", "wall_s", "img_per_s", "peak_mem_mb", "params",
        "macs", "resolution"}


def test_json_has_the_keys(capsys):
    code, out, err = run_cli(capsys, "train", *TINY, *QUICK, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= KEYS
    assert data["status"] == "ok" and data["epochs"] == 1 and data["resolution"] == 32
    assert data["params"] > 0 and data["macs"] > 0 and data["step_mode"] == "eager"
    assert data["layout"]["num_classes"] == 4  # from the dataset
    assert "epoch 1/1" in err  # progress on stderr


def test_imagefolder_reports_its_skipped_files(capsys, tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("SCALING_SEARCH_CACHE", str(tmp_path / "cache"))
    for split, count in (("train", 6), ("test", 2)):
        for name in ("ant", "bee"):
            folder = tmp_path / "set" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.new("RGB", (20, 20), (40 * i, 0, 0)).save(folder / f"{i}.png")
    (tmp_path / "set" / "train" / "ant" / "broken.jpg").write_bytes(b"not a jpeg")
    code, out, err = run_cli(capsys, "train", *TINY, *QUICK, "--dataset", f"imagefolder:{tmp_path / 'set'}", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["skipped_files"] == 1 and data["val_source"] == "carved"
    assert data["images"] == {"train": 10, "val": 2, "test": 4}
    assert "1 unusable files skipped" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stages": []}, "at least one stage"),
        ({"head": 10**9}, "layout.json: head must be an integer in"),
        ({"dropout": 2.0}, r"layout.json: dropout must lie in \[0, 1\)"),
        ({"width": "abc"}, "layout.json: width must be a number"),
        ({"resolution": "64"}, "resolution must be an integer in"),
        ({"stage": ("repeats", 0)}, "stage 1 repeats must be an integer in"),
        ({"stage": ("out_channels", -8)}, "stage 1 out_channels must be an integer in"),
        ({"stage": ("kernel", 4)}, "odd kernel"),
        ({"stage": ("in_channels", 7)}, "stage 1 takes 7 channels but gets 32"),
        ({"resolution": 32.0}, r"layout.json: resolution must be an integer in \[8, 4096\], got 32.0"),
        ({"stage": ("repeats", 1048576)}, r"stage 1 repeats must be an integer in \[1, 1024\]"),
        ({"bn_eps": -1}, r"layout.json: bn_eps must be a number in \(0, 1\]"),
        ({"se_ratio": float("nan")}, "layout.json: se_ratio must be a number"),
    ],
)
def test_hand_edited_config_is_checked(capsys, tmp_path, change, message):
    from scaling_search.models.architecture import EFFICIENTNET_B0
    from scaling_search.models.scaling import scale

    layout = scale(resolution=32, base=EFFICIENTNET_B0).to_dict()
    if "stage" in change:
        name, value = change["stage"]
        layout["stages"][0][name] = value
    else:
        layout.update(change)
    (tmp_path / "layout.json").write_text(json.dumps(layout))
    assert re.search(message, cli_error(capsys, "train", "--config", str(tmp_path / "layout.json"), *QUICK))


def test_table_by_default(capsys):
    code, out, _ = run_cli(capsys, "train", *TINY, *QUICK)
    assert code == 0
    assert "val acc" in out and "img/s" in out and "ok" in out


def test_config_round_trip(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", *TINY, *QUICK, "--json")
    assert code == 0
    first = json.loads(out)
    config = tmp_path / "run.json"
    config.write_text(out)
    code, out, _ = run_cli(capsys, "train", "--config", str(config), *QUICK, "--json")
    assert code == 0
    second = json.loads(out)
    assert second["layout"] == first["layout"]
    assert second["val_acc"] == first["val_acc"] and second["params"] == first["params"]
    (tmp_path / "layout.json").write_text(json.dumps(first["layout"]))  # a bare layout works too
    assert layout_from(["--config", str(tmp_path / "layout.json"), "--resolution", "40"]).resolution == 40


def test_divergence_exits_1_with_the_reason(capsys):
    code, out, err = run_cli(capsys, "train", *TINY, *QUICK, "--dataset", "synthetic:classes=4,train=320,test=32",
                             "--lr", "1e6", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "diverged"
    assert "diverged" in err and "loss" in err


def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path):
    assert "unknown dataset" in cli_error(capsys, "train", *TINY, "--dataset", "mnist-ish")
    assert "not a folder" in cli_error(capsys, "train", *TINY, "--dataset", f"imagefolder:{tmp_path / 'missing'}")
    empty = tmp_path / "empty"
    (empty / "train" / "cats").mkdir(parents=True)
    (empty / "val" / "cats").mkdir(parents=True)
    assert "cats" in cli_error(capsys, "train", *TINY, "--dataset", f"imagefolder:{empty}")
    assert "resolution must be an integer in [8, 4096], got 0" in cli_error(capsys, "train", "--resolution", "0")
    assert "epochs must be an integer in [1, 10000], got 0" in cli_error(capsys, "train", *TINY, "--epochs", "0")
    assert "lr_per_256 (the peak learning rate" in cli_error(capsys, "train", *TINY, "--lr", "-0.1")
    assert "train_batch_size must be >= 1, got 0" in cli_error(capsys, "train", *TINY, "--batch-size", "0")
    assert "--batch-size: not an integer: 'many'" in cli_error(capsys, "train", *TINY, "--batch-size", "many")
    assert "device must be auto, cpu, cuda or cuda:N, not 'tpu'" in cli_error(capsys, "train", *TINY, "--device", "tpu")
    assert "unknown recipe 'fast'" in cli_error(capsys, "train", *TINY, "--recipe", "fast")
    assert "cannot read" in cli_error(capsys, "train", "--config", str(tmp_path / "nothing.json"))
    assert "--config: must not be empty" in cli_error(capsys, "train", "--config", "")
    (tmp_path / "bad.json").write_text('{"layout": {"width": 1}}')
    assert "not a layout" in cli_error(capsys, "train", "--config", str(tmp_path / "bad.json"))
    (tmp_path / "latin1.json").write_bytes('{"name": "caf\u00e9"}'.encode("latin-1"))
    assert "latin1.json is not UTF-8 text" in cli_error(capsys, "train", "--config", str(tmp_path / "latin1.json"))
    assert "--seed" in cli_error(capsys, "train", *TINY, "--seed", "99999999999999999999999")
    assert "threads must lie in [1, 1024], got 100000" in cli_error(capsys, "train", *TINY, "--threads", "100000")
    assert "epochs must be an integer in [1, 10000]" in cli_error(capsys, "train", *TINY, "--epochs", "99999999999")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_bad_input(capsys):
    assert "CUDA is not available" in cli_error(capsys, "train", *TINY, "--device", "cuda")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "1.1", "--alpha", "1.2"], "width and alpha describe the network in different ways; choose one"),
        (["--model", "b0", "--config", "x.json"], "model and config describe"),
        (["--model", "b1", "--depth", "1.2"], "depth and model describe"),
        (["--phi", "1", "--config", "x.json"], "phi and config describe"),
    ],
)
def test_contradictory_choices(capsys, argv, message):
    assert message in cli_error(capsys, "train", *argv)


def parse(argv: list[str]) -> argparse.Namespace:
    from scaling_search.cli import build_parser

    return build_parser().parse_args(["train", *argv])


def layout_from(argv: list[str]) -> Layout:
    """The layout ``train`` chooses for these flags, as its handler does."""
    return choose_layout(**flags.network_options(parse(argv)), default_resolution=PROXY_RESOLUTION)


def test_choosing_the_network():
    default = layout_from([])
    assert (default.width, default.depth, default.resolution) == (1.0, 1.0, 64)
    b2 = layout_from(["--model", "b2"])
    assert (b2.width, b2.depth, b2.resolution) == (1.1, 1.2, 260)
    assert layout_from(["--model", "b0", "--resolution", "64"]).resolution == 64
    compound = layout_from(["--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15", "--phi", "2",
                            "--base-resolution", "64"])
    assert compound.depth == pytest.approx(1.44) and compound.width == pytest.approx(1.21)
    assert compound.resolution == round(64 * 1.15**2)
    assert layout_from(["--width", "0.5"]).depth == 1.0
    with pytest.raises(InputError, match="compound scaling needs phi as well"):
        layout_from(["--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15"])
