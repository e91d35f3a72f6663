"""`scaling-search export` refuses bad input in one line (exit 2) before it builds anything, and keeps no file that
disagrees with PyTorch."""

from __future__ import annotations

import json
import sys

import pytest

from scaling_search.handoff import exported_program
from scaling_search.handoff.agreement import DeployCheckError, check_agreement
from scaling_search.handoff.deployables import check_out_folder, member_phis
from scaling_search.handoff.sources import coefficient_source
from scaling_search.models.bases import base_network
from scaling_search.models.network import build
from scaling_search.models.scaling import compound_layout
from tests.cli_helpers import cli_error, run_cli
from tests.handoff.test_members import manifest

PAPER = ("--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15")
TINY = ("--base", "efficientnet_demo", "--base-resolution", "32", "--num-classes", "10")
"""The CPU demo base at 32 px and 10 classes: members that trace in a second or two."""
EXTRA = 'which is not installed: pip install "scaling-search[export]"'


def tiny_model():
    """The phi0 member of :data:`TINY`."""
    layout = compound_layout(1.2, 1.1, 1.15, 0, base_resolution=32, num_classes=10,
                             base=base_network("efficientnet_demo"))
    return build(layout).eval()


@pytest.mark.parametrize(("argv", "message"), [
    (PAPER, "the following arguments are required: --out"),
    (("--out", "{out}"), "name a study (--study) or the coefficients (--alpha, --beta, --gamma)"),
    (("--alpha", "1.2", "--beta", "1.1", "--out", "{out}"), "coefficients need alpha, beta and gamma: gamma missing"),
    (("--alpha", "0.9", "--beta", "1.1", "--gamma", "1.15", "--out", "{out}"), "alpha must be a finite number >= 1"),
    ((*PAPER, "--members", "phi0,b3", "--out", "{out}"), "not a list of members: 'phi0,b3'"),
    ((*PAPER, "--members", "phi0,phi40", "--out", "{out}"), "phi40 cannot be built (a multiplier or the resolution "
                                                            "would pass the largest this tool builds)"),
    ((*PAPER, "--formats", "onnx,tflite", "--out", "{out}"), "deployable formats are some of onnx, torch-export; "
                                                             "got 'onnx', 'tflite'"),
    ((*PAPER, "--base", "vgg16", "--out", "{out}"), "unknown base network 'vgg16'"),
    ((*PAPER, "--num-classes", "0", "--out", "{out}"), "num_classes must be"),
])
def test_bad_input_is_one_line_and_exit_2_before_anything_is_written(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    line = cli_error(capsys, "export", *(arg.format(out=out) for arg in argv))
    assert message in line
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("missing", ["onnx", "onnxscript", "onnxruntime"])
def test_a_missing_extra_is_one_line_naming_it(tmp_path, capsys, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # as if it were not installed: importing it raises ImportError
    line = cli_error(capsys, "export", *PAPER, "--members", "phi0", "--out", str(tmp_path / "out"))
    assert f"writing ONNX files needs {missing}, {EXTRA}" in line
    assert not (tmp_path / "out").exists()


def test_torch_export_alone_needs_no_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    (tmp_path / "notes.txt").write_text("mine")
    line = cli_error(capsys, "export", *PAPER, "--formats", "torch-export", "--out", str(tmp_path))
    assert "holds files an earlier export of deployable files did not write (notes.txt)" in line  # not the extra


def test_the_folder_must_be_new_empty_or_an_earlier_exports(tmp_path, capsys, monkeypatch):
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "manifest.json").write_text(json.dumps(manifest().to_json()))
    for name in ("phi0.onnx", "phi0.pt2", "phi2.onnx", "phi2.pt2", ".DS_Store"):
        (earlier / name).write_bytes(b"")
    check_out_folder(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_out_folder(tmp_path / "empty")
    (earlier / "phi3.onnx").write_bytes(b"")
    assert "holds files an earlier export of deployable files did not write (phi3.onnx)" in cli_error(
        capsys, "export", *PAPER, "--out", str(earlier))
    (earlier / "phi3.onnx").unlink()
    code, _, err = run_cli(capsys, "export", *PAPER, *TINY, "--members", "phi1", "--formats", "torch-export",
                           "--out", str(earlier))
    assert code == 0, err
    assert sorted(path.name for path in earlier.iterdir()) == ["manifest.json", "phi1.pt2"]  # replaced as a whole
    assert [member["name"] for member in json.loads((earlier / "manifest.json").read_text())["members"]] == ["phi1"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["earlier", "empty"]  # no staging folder left
    (tmp_path / "file").write_text("x")
    assert "is a file; the deployable files need a folder of their own" in cli_error(
        capsys, "export", *PAPER, "--out", str(tmp_path / "file"))
    monkeypatch.chdir(tmp_path / "empty")
    assert "would be replaced as a whole; name a folder of its own" in cli_error(capsys, "export", *PAPER, "--out",
                                                                                  ".")


def test_a_check_passes_within_the_tolerance_of_the_largest_logit_and_fails_past_it():
    model = tiny_model()
    agreement = check_agreement(model, model, "the same network")
    assert agreement.max_difference == 0 and agreement.largest_logit > 0
    largest = agreement.largest_logit
    assert check_agreement(model, lambda images: model(images) + 0.5e-4 * largest, "a near one").holds
    with pytest.raises(DeployCheckError, match=r"a far one does not compute what PyTorch does: its logits differ by "
                                               r"up to .* where the largest is .* \(allowed: 0.0001 of it\)"):
        check_agreement(model, lambda images: model(images) + 2e-4 * largest, "a far one")
    with pytest.raises(DeployCheckError, match=r"a short one gives logits of shape \(1, 9\) for 1 images"):
        check_agreement(model, lambda images: model(images)[:, :9], "a short one")
    with pytest.raises(DeployCheckError, match="differ by up to nan"):
        check_agreement(model, lambda images: model(images) * float("nan"), "a broken one")


def test_a_file_that_disagrees_is_not_kept(tmp_path, monkeypatch):
    def perturbed(model, run, what):  # the loaded program, one logit in a thousand off
        return check_agreement(model, lambda images: run(images) * 1.001, what)

    monkeypatch.setattr(exported_program, "check_agreement", perturbed)
    with pytest.raises(DeployCheckError, match=r"the torch\.export program phi0\.pt2 loaded back does not compute"):
        exported_program.write_exported_program(tiny_model(), tmp_path / "phi0.pt2")
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary name is left


def test_by_default_every_member_that_can_be_built_and_the_others_said():
    heard: list[str] = []
    assert member_phis(coefficient_source(1.95, 1.0, 1.0), None, heard.append) == [0, 1, 2, 3, 4, 5, 6]
    assert heard == ["phi7 cannot be built (a multiplier or the resolution would pass the largest this tool builds), "
                     "so the family stops before them"]
    assert member_phis(coefficient_source(1.2, 1.1, 1.15), "phi2,phi0-phi1,2", heard.append) == [2, 0, 1]
