"""manifest.json: what a folder of deployable files holds, and where each member came from.

One manifest describes the folder ``scaling-search export`` writes (:mod:`.deployables`): the
family's coefficients, base and scale, the study they came from (if any), the software that wrote
and checked the files, and per member its layout, counts, latency where the study timed that very
network, resolution, dropout and drop-path, and each file with the largest difference its check
found against PyTorch. It is read back with :meth:`Manifest.from_json` (and
:func:`~scaling_search.handoff.members.load_member` takes a member's layout out of it). Every part
checks itself when built, so a hand-edited manifest fails in one line naming what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, TypeGuard

from scaling_search.coefficients.family import check_coefficients, member_name
from scaling_search.errors import InputError
from scaling_search.models import checks
from scaling_search.models.layout import Layout, check_resolution

MANIFEST_NAME = "manifest.json"
FORMAT = "scaling-search deployables"
"""The manifest's ``format``: tells it from a study's result files (best.json, configs/) and from a layout file."""
FORMAT_VERSION = 1
FILE_FORMATS = {"onnx": ".onnx", "torch-export": ".pt2"}
"""Each deployable format and the suffix of its files."""
INPUT_NAME = "images"
"""The input of every deployable file: float32 images, NCHW, batch first (dynamic), at the member's resolution."""
OUTPUT_NAME = "logits"
"""The output of every deployable file: one row of logits per image."""


@dataclass(frozen=True)
class Latency:
    """A member's latency as its study timed it (:mod:`scaling_search.counting.latency`): the median time of one call.

    Recorded only for a member that is the very network a study candidate was timed as, at the
    cost scale; ``batch_size`` … ``mode`` are how the study timed it (its ``latency_*`` options).
    """

    median_ms: float
    iqr_ms: float | None
    device: str
    batch_size: int
    dtype: str
    threads: int
    channels_last: bool
    compile: bool
    mode: str

    def __post_init__(self) -> None:
        checks.number("latency median_ms", self.median_ms, 0.0, math.inf)
        if self.iqr_ms is not None and (isinstance(self.iqr_ms, bool) or not isinstance(self.iqr_ms, (int, float))
                                        or not 0 <= self.iqr_ms < math.inf):
            raise InputError(f"latency iqr_ms must be a number >= 0 or null, got {self.iqr_ms!r}")
        for name in ("device", "dtype", "mode"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(f"latency {name} must be a non-empty string, got {getattr(self, name)!r}")
        checks.integer("latency batch_size", self.batch_size, 1, math.inf)
        checks.integer("latency threads", self.threads, 1, math.inf)
        checks.boolean("latency channels_last", self.channels_last)
        checks.boolean("latency compile", self.compile)

    def to_json(self) -> dict[str, object]:
        return {"median_ms": self.median_ms, "iqr_ms": self.iqr_ms, "device": self.device,
                "batch_size": self.batch_size, "dtype": self.dtype, "threads": self.threads,
                "channels_last": self.channels_last, "compile": self.compile, "mode": self.mode}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Latency:
        return cls(**fields_of(data, "a manifest's latency", ("median_ms", "iqr_ms", "device", "batch_size", "dtype",
                                                               "threads", "channels_last", "compile", "mode")))


@dataclass(frozen=True)
class DeployedFile:
    """One written file of a member: its format, its name in the folder, and what its check against PyTorch found.

    ``max_difference`` is the largest |logit of the file − PyTorch's logit| over random inputs of
    batch sizes 1 and 3, ``largest_logit`` the largest |PyTorch logit| there; the file was written
    only once the first was within 1e-4 of the second (:mod:`.agreement`).
    """

    format: str
    file: str
    max_difference: float
    largest_logit: float

    def __post_init__(self) -> None:
        checks.choice("file format", self.format, FILE_FORMATS)
        if not isinstance(self.file, str) or PurePath(self.file).name != self.file or self.file in ("", ".", ".."):
            raise InputError(f"a deployable file is named by its name in the folder, got {self.file!r}")
        if not self.file.endswith(FILE_FORMATS[self.format]):
            raise InputError(f"a {self.format} file ends in {FILE_FORMATS[self.format]}, got {self.file!r}")
        for name in ("max_difference", "largest_logit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise InputError(f"{name} of {self.file} must be a number >= 0, got {value!r}")

    def to_json(self) -> dict[str, object]:
        return {"format": self.format, "file": self.file, "max_difference": self.max_difference,
                "largest_logit": self.largest_logit}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeployedFile:
        return cls(**fields_of(data, "a manifest's file entry", ("format", "file", "max_difference", "largest_logit")))


@dataclass(frozen=True)
class MemberManifest:
    """One member of the folder: its layout, its counts at its own resolution, its latency where timed, its files.

    Resolution, classes, dropout and drop-path are the layout's; the manifest's JSON spells them
    out beside it for readers (and :meth:`from_json` refuses a manifest where they disagree).
    """

    name: str
    phi: float
    layout: Layout
    params: int
    macs: int
    activations: int
    latency: Latency | None
    files: tuple[DeployedFile, ...]

    def __post_init__(self) -> None:
        if isinstance(self.phi, bool) or not isinstance(self.phi, (int, float)) or not math.isfinite(self.phi):
            raise InputError(f"member phi must be a finite number, got {self.phi!r}")
        if self.name != member_name(self.phi):
            raise InputError(f"the member at phi {self.phi:g} is named {member_name(self.phi)}, got {self.name!r}")
        if not isinstance(self.layout, Layout):
            raise InputError(f"member {self.name}'s layout must be a Layout, got {type(self.layout).__name__}")
        for count in ("params", "macs", "activations"):
            checks.integer(f"{self.name} {count}", getattr(self, count), 1, math.inf)
        if not self.files:
            raise InputError(f"member {self.name} lists no file")
        formats = [file.format for file in self.files]
        if len(set(formats)) < len(formats):
            raise InputError(f"member {self.name} lists a format twice: {', '.join(formats)}")

    def file(self, file_format: str) -> DeployedFile | None:
        """The member's file in ``file_format`` ("onnx" or "torch-export"); None when it was not written."""
        return next((file for file in self.files if file.format == file_format), None)

    def to_json(self) -> dict[str, object]:
        side = self.layout.resolution
        return {
            "name": self.name,
            "phi": self.phi,
            "resolution": side,
            "num_classes": self.layout.num_classes,
            "dropout": self.layout.dropout,
            "drop_path": self.layout.drop_path,
            "params": self.params,
            "macs": self.macs,
            "activations": self.activations,
            "latency": None if self.latency is None else self.latency.to_json(),
            "input": {"name": INPUT_NAME, "shape": ["batch", 3, side, side], "dtype": "float32"},
            "output": {"name": OUTPUT_NAME, "shape": ["batch", self.layout.num_classes], "dtype": "float32"},
            "files": [file.to_json() for file in self.files],
            "layout": self.layout.to_dict(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberManifest:
        values = fields_of(data, "a manifest's member", ("name", "phi", "layout", "params", "macs", "activations",
                                                         "latency", "files", "resolution", "num_classes", "dropout",
                                                         "drop_path"))
        layout = Layout.from_dict(mapping(values["layout"], "a member's layout"))
        for key, own in (("resolution", layout.resolution), ("num_classes", layout.num_classes),
                         ("dropout", layout.dropout), ("drop_path", layout.drop_path)):
            if values[key] != own:
                raise InputError(f"member {values['name']!r} gives {key} {values[key]!r} but its layout has {own!r}")
        latency = values["latency"]
        if not isinstance(values["files"], list):
            raise InputError(f"member {values['name']!r}: files must be a list, got {values['files']!r}")
        return cls(values["name"], values["phi"], layout, values["params"], values["macs"], values["activations"],
                   None if latency is None else Latency.from_json(mapping(latency, "a member's latency")),
                   tuple(DeployedFile.from_json(mapping(file, "a member's file")) for file in values["files"]))


@dataclass(frozen=True)
class Manifest:
    """The folder's manifest: the family's source and scale, the software that wrote it, and each member.

    ``study`` is the study the coefficients are the answer of (None for coefficients given by hand),
    ``cost_kind`` the cost that study was held to. ``base_resolution``, ``resolution_multiple`` and
    ``num_classes`` are the scale the family was derived at. ``scaling_search_version`` is the
    installed distribution's (None when scaling-search runs from a source tree it was not
    installed from), ``onnxruntime_version`` the ONNX Runtime the ONNX files were checked with
    (None when none was written).

    Example:
        >>> from scaling_search.handoff.manifest import Manifest
        >>> manifest = Manifest.from_json({"format": "scaling-search deployables", "format_version": 1})
        Traceback (most recent call last):
        ...
        scaling_search.errors.InputError: not a scaling-search deployables manifest: it has no 'members'
    """

    members: tuple[MemberManifest, ...]
    alpha: float
    beta: float
    gamma: float
    base: str
    base_resolution: int
    resolution_multiple: int
    num_classes: int
    study: str | None
    cost_kind: str | None
    scaling_search_version: str | None
    torch_version: str
    onnxruntime_version: str | None

    def __post_init__(self) -> None:
        check_coefficients(self.alpha, self.beta, self.gamma)
        check_resolution(self.base_resolution, "base resolution")
        checks.integer("resolution multiple", self.resolution_multiple, 1, math.inf)
        if not self.members:
            raise InputError("a manifest lists at least one member")
        names = [member.name for member in self.members]
        if len(set(names)) < len(names):
            raise InputError(f"a manifest lists each member once, got {', '.join(names)}")
        for member in self.members:
            if member.layout.base != self.base or member.layout.num_classes != self.num_classes:
                raise InputError(f"member {member.name} is a {member.layout.base} network with "
                                 f"{member.layout.num_classes} classes, not {self.base} with {self.num_classes}")
        written = [file.file for member in self.members for file in member.files]
        if len(set(written)) < len(written) or MANIFEST_NAME in written:
            raise InputError(f"a manifest names each file once, and not {MANIFEST_NAME}: got {', '.join(written)}")
        for name in ("base", "torch_version"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(f"{name} must be a non-empty string, got {getattr(self, name)!r}")
        for name in ("study", "cost_kind", "scaling_search_version", "onnxruntime_version"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise InputError(f"{name} must be a string or null, got {getattr(self, name)!r}")

    def member(self, name: str) -> MemberManifest:
        """The member called ``name``; InputError naming the members there are when it is not one of them."""
        for member in self.members:
            if member.name == name:
                return member
        raise InputError(f"no member {name!r} in the manifest; it has {', '.join(m.name for m in self.members)}")

    def files(self) -> list[str]:
        """Every file the folder holds: the members' files, then the manifest itself."""
        return [file.file for member in self.members for file in member.files] + [MANIFEST_NAME]

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "study": self.study,
            "cost_kind": self.cost_kind,
            "coefficients": {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma},
            "base": self.base,
            "scale": {"base_resolution": self.base_resolution, "resolution_multiple": self.resolution_multiple,
                      "num_classes": self.num_classes},
            "versions": {"scaling-search": self.scaling_search_version, "torch": self.torch_version,
                         "onnxruntime": self.onnxruntime_version},
            "members": [member.to_json() for member in self.members],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """The manifest ``data`` holds (as :meth:`to_json` writes it); InputError, in one line, for anything else."""
        if not is_manifest(data):
            raise InputError(f"not a {FORMAT} manifest (its format should be {FORMAT!r})")
        if data.get("format_version") != FORMAT_VERSION:
            raise InputError(f"a {FORMAT} manifest of format version {data.get('format_version')!r}; this "
                             f"scaling-search reads version {FORMAT_VERSION}")
        values = fields_of(data, f"a {FORMAT} manifest", ("members", "coefficients", "base", "scale", "study",
                                                        "cost_kind", "versions"))
        coefficients = fields_of(mapping(values["coefficients"], "coefficients"), "the manifest's coefficients",
                                 ("alpha", "beta", "gamma"))
        scale = fields_of(mapping(values["scale"], "scale"), "the manifest's scale",
                          ("base_resolution", "resolution_multiple", "num_classes"))
        versions = fields_of(mapping(values["versions"], "versions"), "the manifest's versions",
                             ("scaling-search", "torch", "onnxruntime"))
        if not isinstance(values["members"], list):
            raise InputError(f"members must be a list, got {values['members']!r}")
        return cls(tuple(MemberManifest.from_json(mapping(member, "a member")) for member in values["members"]),
                   coefficients["alpha"], coefficients["beta"], coefficients["gamma"], values["base"],
                   scale["base_resolution"], scale["resolution_multiple"], scale["num_classes"], values["study"],
                   values["cost_kind"], versions["scaling-search"], versions["torch"], versions["onnxruntime"])


def is_manifest(data: object) -> TypeGuard[Mapping[str, Any]]:
    """Whether JSON ``data`` says it is a deployables manifest (its ``format``), whatever else it holds."""
    return isinstance(data, Mapping) and data.get("format") == FORMAT


def fields_of(data: Mapping[str, Any], what: str, names: tuple[str, ...]) -> dict[str, Any]:
    """``data``'s values of ``names``; InputError naming the first that is missing."""
    missing = [name for name in names if name not in data]
    if missing:
        raise InputError(f"not {what}: it has no {missing[0]!r}")
    return {name: data[name] for name in names}


def mapping(value: object, what: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object; InputError saying ``what`` it should have been otherwise."""
    if not isinstance(value, Mapping):
        raise InputError(f"{what} in a {FORMAT} manifest must be an object, got {value!r}")
    return value
