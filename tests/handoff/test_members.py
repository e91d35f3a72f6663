"""`load_member` and the manifest it reads: a member's layout from a manifest, a study's config or a layout file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import scaling_search as ss
from scaling_search.coefficients.family import derive
from scaling_search.errors import InputError
from scaling_search.handoff.manifest import DeployedFile, Latency, Manifest, MemberManifest

LATENCY = Latency(3.25, 0.5, "test CPU", 1, "float32", 1, False, False, "inference")


def manifest(phis=(0, 2), latency: Latency | None = None) -> Manifest:
    """A manifest of the paper's family at ``phis``, as an export would write it (the check's figures made up)."""
    members = tuple(
        MemberManifest(found.name, found.phi, found.layout, found.params, found.macs, 1_000_000, latency,
                       (DeployedFile("onnx", f"{found.name}.onnx", 1e-11, 2e-5),
                        DeployedFile("torch-export", f"{found.name}.pt2", 0.0, 2e-5)))
        for found in derive(1.2, 1.1, 1.15, phis=list(phis)))
    return Manifest(members, 1.2, 1.1, 1.15, "efficientnet_b0", 224, 4, 1000, None, None, ss.__version__, "2.5",
                    "1.18")


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_a_manifest_reads_back_as_it_was_written():
    written = manifest(latency=LATENCY)
    assert Manifest.from_json(json.loads(json.dumps(written.to_json()))) == written


def test_load_member_reads_a_manifest_its_folder_and_names_the_member_when_there_are_several(tmp_path):
    write(tmp_path / "manifest.json", manifest().to_json())
    phi2 = derive(1.2, 1.1, 1.15, phis=[2])[0].layout
    assert ss.load_member(tmp_path / "manifest.json", "phi2") == phi2
    assert ss.load_member(tmp_path, "phi2") == phi2  # the folder of deployable files
    with pytest.raises(InputError, match=r"manifest.json holds phi0, phi2; name the member to load"):
        ss.load_member(tmp_path)
    with pytest.raises(InputError, match=r"manifest.json: no member 'phi1' in the manifest; it has phi0, phi2"):
        ss.load_member(tmp_path, "phi1")
    write(tmp_path / "manifest.json", manifest(phis=(3,)).to_json())
    assert ss.load_member(tmp_path) == derive(1.2, 1.1, 1.15, phis=[3])[0].layout  # one member needs no name


def test_load_member_reads_a_config_and_a_layout_file(tmp_path):
    derived = derive(1.2, 1.1, 1.15, phis=[1])[0]
    config = write(tmp_path / "phi1.json", {"name": "phi1", "source": "derived", "phi": 1.0, "study": "c10",
                                            "layout": derived.layout.to_dict()})
    assert ss.load_member(config) == ss.load_member(config, "phi1") == derived.layout
    with pytest.raises(InputError, match=r"phi1\.json holds member 'phi1', not 'phi2'"):
        ss.load_member(config, "phi2")
    assert ss.load_member(write(tmp_path / "layout.json", derived.layout.to_dict())) == derived.layout


@pytest.mark.parametrize(("content", "message"), [
    ("{", "is not JSON"),
    ('{"width": 1.0}', "not a layout"),
    ('{"format": "scaling-search deployables", "format_version": 2}', "of format version 2; this scaling-search "
                                                                        "reads version 1"),
])
def test_load_member_refuses_what_is_not_a_member(tmp_path, content, message):
    (tmp_path / "member.json").write_text(content)
    with pytest.raises(InputError, match=message):
        ss.load_member(tmp_path / "member.json")


def test_a_manifest_that_contradicts_its_layout_is_refused(tmp_path):
    data = manifest().to_json()
    data["members"][1]["resolution"] = 300
    with pytest.raises(InputError, match="member 'phi2' gives resolution 300 but its layout has 296"):
        ss.load_member(write(tmp_path / "manifest.json", data), "phi2")


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: replace(m, members=()), "at least one member"),
    (lambda m: replace(m, members=(m.members[0], m.members[0])), "each member once"),
    (lambda m: replace(m, alpha=0.9), "alpha must be a finite number >= 1"),
    (lambda m: replace(m, num_classes=10), "not efficientnet_b0 with 10"),
    (lambda m: replace(m, members=(replace(m.members[0], name="phi1"),)), "the member at phi 0 is named phi0"),
    (lambda m: replace(m, members=(replace(m.members[0], files=()),)), "member phi0 lists no file"),
    (lambda m: replace(m, members=(replace(m.members[0], params=0),)), "phi0 params must be an integer"),
])
def test_a_manifest_checks_itself_when_built(change, message):
    with pytest.raises(InputError, match=message):
        change(manifest())


@pytest.mark.parametrize(("file", "message"), [
    (("onnx", "../phi0.onnx", 0.0, 1.0), "named by its name in the folder"),
    (("onnx", "phi0.pt2", 0.0, 1.0), "a onnx file ends in .onnx"),
    (("tflite", "phi0.tflite", 0.0, 1.0), "file format must be one of onnx, torch-export"),
    (("onnx", "phi0.onnx", float("nan"), 1.0), "max_difference of phi0.onnx must be a number >= 0"),
])
def test_a_file_entry_checks_itself(file, message):
    with pytest.raises(InputError, match=message):
        DeployedFile(*file)


def test_latency_checks_itself():
    with pytest.raises(InputError, match="latency median_ms must be a number in"):
        replace(LATENCY, median_ms=-1.0)
    with pytest.raises(InputError, match="latency threads must be an integer"):
        replace(LATENCY, threads=0)
