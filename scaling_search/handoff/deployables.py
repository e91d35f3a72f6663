"""Deployable files of a derived family: per member an ONNX file and a ``torch.export`` program, and one manifest.

What ``scaling-search export`` writes (:func:`write_deployables`). Not to be confused with a
study's result files (best.json, derived.json, configs/, written by
:mod:`scaling_search.search.export`), which only scaling-search reads: these are for other tools.
Each member is built as :func:`~scaling_search.models.network.build` builds it, with its base's
initialisation drawn from seed 0 (so the same command writes the same weights), in eval mode. Each
file is checked against PyTorch before it is kept (:mod:`.agreement`), and the folder is
published whole once every file is written (:func:`~scaling_search.support.publish.publish`): a
failure leaves the folder as it was.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch

from scaling_search.coefficients.family import buildable_phis, derive_family, parse_phis, unbuilt_note
from scaling_search.counting.analytic import analytic_counts
from scaling_search.errors import InputError
from scaling_search.handoff.agreement import Agreement
from scaling_search.handoff.exported_program import write_exported_program
from scaling_search.handoff.manifest import FILE_FORMATS, MANIFEST_NAME, DeployedFile, Manifest, MemberManifest
from scaling_search.handoff.onnx_file import require_onnx, write_onnx
from scaling_search.handoff.sources import FamilySource, coefficient_source, study_source
from scaling_search.models.architecture import FAMILY_PHIS
from scaling_search.models.network import Network, build
from scaling_search.study.environment import software_versions
from scaling_search.support.formatting import chosen_formats
from scaling_search.support.publish import is_os_metadata, publish

FORMATS = tuple(FILE_FORMATS)
"""The deployable formats, each written unless asked otherwise: "onnx" and "torch-export"."""
WRITERS: dict[str, Callable[[Network, Path], Agreement]] = {"onnx": write_onnx,
                                                             "torch-export": write_exported_program}
"""The function that writes, checks and keeps one member's file of each format."""
BUILD_SEED = 0
"""Every member's weights are its base's initialisation drawn from this seed."""


def write_deployables(
    out: str | Path,
    *,
    study: str | None = None,
    alpha: float | None = None,
    beta: float | None = None,
    gamma: float | None = None,
    base: str | None = None,
    members: str | Sequence[float] | None = None,
    formats: Iterable[str] = FORMATS,
    num_classes: int | None = None,
    base_resolution: int | None = None,
    resolution_multiple: int | None = None,
    studies_dir: str | Path = "studies",
    storage: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Manifest:
    """Write the deployable files of a family's ``members`` to folder ``out`` and return its manifest.

    The family is study ``study``'s best (its answer's coefficients at its cost scale, on its own
    base; ``storage`` or ``<studies_dir>/<study>.db``), or that of ``alpha``, ``beta`` and
    ``gamma`` on ``base`` (B0; a built-in name or a TOML stage table) at ``base_resolution`` (the
    base's own), ``resolution_multiple`` (4) and ``num_classes`` (1000), the scale ``derive``
    counts at; ``num_classes`` also replaces a study's classes. ``members`` are φ values or names
    (``"phi0,phi2"``, ``"0-7"``, ``[0, 2]``); by default every member φ = 0…7 that can be built.
    ``formats`` are some of "onnx" and "torch-export" (both by default); ONNX needs the
    ``export`` extra. Per member the folder gets ``phiN.onnx`` and ``phiN.pt2``, each checked
    against PyTorch, and one ``manifest.json`` describes them all (:class:`Manifest`). ``out``
    must be new, empty or a folder an earlier call wrote (holding only what its manifest lists),
    and is replaced as a whole. ``log`` hears a line per file written.

    Bad input (a study and coefficients together, a member that cannot be built, an unknown
    format, an ``out`` holding other files, a missing extra) raises
    :class:`~scaling_search.errors.InputError` before anything is built; a file that does not
    agree with PyTorch raises :class:`~scaling_search.handoff.agreement.DeployCheckError`, and the
    folder stays as it was.

    Example (the CPU demo base at 32 px, torch.export only: ONNX takes some seconds more per member):
        >>> import tempfile, torch
        >>> import scaling_search as ss
        >>> folder = tempfile.mkdtemp()
        >>> manifest = ss.write_deployables(folder, alpha=1.2, beta=1.1, gamma=1.15, base="efficientnet_demo",
        ...                                 members="phi1", formats=["torch-export"], base_resolution=32,
        ...                                 num_classes=10)
        >>> member = manifest.members[0]
        >>> member.name, member.layout.resolution, member.params, [file.file for file in member.files]
        ('phi1', 36, 958804, ['phi1.pt2'])
        >>> program = torch.export.load(f"{folder}/phi1.pt2").module()
        >>> program(torch.randn(3, 3, 36, 36)).shape
        torch.Size([3, 10])
    """
    wanted = deploy_formats(formats)
    runtime = require_onnx() if "onnx" in wanted else None
    source = family_source(study=study, alpha=alpha, beta=beta, gamma=gamma, base=base, num_classes=num_classes,
                           base_resolution=base_resolution, resolution_multiple=resolution_multiple,
                           studies_dir=studies_dir, storage=storage)
    say = log or (lambda line: None)
    phis = member_phis(source, members, say)
    folder = Path(out).expanduser().resolve()
    check_out_folder(folder)
    family = derive_family(source.alpha, source.beta, source.gamma, phis, analytic_counts, source.base_resolution,
                           source.resolution_multiple, source.num_classes, source.base)
    version = None if runtime is None else str(runtime.__version__)
    done: list[Manifest] = []

    def fill(staging: Path) -> None:
        target = staging / folder.name
        target.mkdir()
        written = []
        for member in family:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(BUILD_SEED)
                model = build(member.layout).eval()
            counts = analytic_counts(member.layout)
            say(f"{member.name}: {member.resolution} px, {counts.params / 1e6:.2f} M params, "
                f"{counts.macs / 1e9:.3f} GMACs")
            files = []
            for file_format in wanted:
                name = f"{member.name}{FILE_FORMATS[file_format]}"
                started = time.perf_counter()
                agreement = WRITERS[file_format](model, target / name)
                say(f"  wrote {name} in {time.perf_counter() - started:.1f} s: it agrees with PyTorch (largest logit "
                    f"difference {agreement.max_difference:.2g}, largest logit {agreement.largest_logit:.2g})")
                files.append(DeployedFile(file_format, name, agreement.max_difference, agreement.largest_logit))
            written.append(MemberManifest(member.name, member.phi, member.layout, counts.params, counts.macs,
                                          counts.activations, source.latency(member.layout), tuple(files)))
        manifest = Manifest(tuple(written), source.alpha, source.beta, source.gamma, source.base.name,
                            source.base_resolution, source.resolution_multiple, source.num_classes, source.study,
                            source.cost_kind, software_versions().get("scaling-search"), torch.__version__,
                            version)
        (target / MANIFEST_NAME).write_text(json.dumps(manifest.to_json(), indent=2) + "\n")
        done.append(manifest)

    folder.parent.mkdir(parents=True, exist_ok=True)
    publish(folder.parent, fill, staging_prefix=f".{folder.name}.")
    return done[0]


def family_source(*, study: str | None, alpha: float | None, beta: float | None, gamma: float | None,
                  base: str | None, num_classes: int | None, base_resolution: int | None,
                  resolution_multiple: int | None, studies_dir: str | Path, storage: str | None) -> FamilySource:
    """A study's family or the coefficients' (not both; InputError naming what to drop)."""
    if study is None:
        if alpha is None and beta is None and gamma is None:
            raise InputError("name a study (--study) or the coefficients (--alpha, --beta, --gamma) whose family to "
                             "hand off")
        return coefficient_source(alpha, beta, gamma, base=base, base_resolution=base_resolution,
                                  resolution_multiple=resolution_multiple, num_classes=num_classes)
    given = [name for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma),
                                      ("base resolution", base_resolution),
                                      ("resolution multiple", resolution_multiple)) if value is not None]
    if given:
        raise InputError(f"a study's family is its own coefficients at its own cost scale: drop the {', '.join(given)} "
                         "or the study")
    return study_source(study, storage=storage, studies_dir=studies_dir, base=base, num_classes=num_classes)


def deploy_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats asked for, in order and once each; InputError when none or an unknown one is named."""
    return chosen_formats(formats, FORMATS, "deployable formats")


def parse_members(text: str) -> list[float]:
    """Members by name or φ, and ranges of them, as φ values.

    Example:
        >>> parse_members("phi0,phi2.5"), parse_members("phi0-phi3"), parse_members("phi-1,0")
        ([0.0, 2.5], [0.0, 1.0, 2.0, 3.0], [-1.0, 0.0])
    """
    try:
        return parse_phis(re.sub(r"\bphi", "", text))
    except InputError:
        raise InputError(f"not a list of members: {text!r} (use e.g. phi0,phi2 or phi0-phi7)") from None


def member_phis(source: FamilySource, members: str | Sequence[float] | None, log: Callable[[str], None]
                ) -> list[float]:
    """The φ of the members to write, once each: those asked for, all buildable, or by default every buildable
    member of φ = 0…7 (``log`` hears which cannot be built)."""
    if members is None:
        asked = list(FAMILY_PHIS)
    else:
        asked = list(dict.fromkeys(parse_members(members) if isinstance(members, str) else map(float, members)))
        if not asked:
            raise InputError("no member asked for (use e.g. phi0,phi2)")
    phis = buildable_phis(source.alpha, source.beta, source.gamma, asked, source.base_resolution,
                          source.resolution_multiple, source.base)
    unbuilt = unbuilt_note([phi for phi in asked if phi not in phis])
    if members is not None and unbuilt:
        raise InputError(f"{unbuilt}; ask for smaller members")
    if not phis:
        raise InputError(f"{unbuilt}; no member of this family can be built")
    if unbuilt:
        log(unbuilt)
    return phis


def check_out_folder(out: Path) -> None:
    """Refuse ``out`` unless it is missing, empty or holds only the files an earlier hand-off's manifest lists.

    The folder is replaced whole, so a folder of the user's work (or the current, home or root
    folder) is refused, never deleted.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(f"{out} is a file; the deployable files need a folder of their own")
    if out in (Path(out.anchor), Path.home().resolve(), Path.cwd().resolve()):
        raise InputError(f"{out} would be replaced as a whole; name a folder of its own, e.g. handoff/<name>")
    present = sorted(str(path.relative_to(out)) for path in out.rglob("*")
                     if (not path.is_dir() or path.is_symlink()) and not is_os_metadata(path.name))
    if not present:
        return
    try:
        earlier = set(Manifest.from_json(json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))).files())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, InputError):
        earlier = set()
    foreign = [name for name in present if name not in earlier]
    if foreign:
        raise InputError(f"{out} holds files an earlier export of deployable files did not write ({foreign[0]}"
                         f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); move them, or name a new "
                         "or empty folder")
