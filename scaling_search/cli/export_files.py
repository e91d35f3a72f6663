"""``scaling-search export``: a family's deployable files (ONNX, torch.export) and their manifest, for other tools.

Not the study's result files (best.json, configs/), which ``run`` writes for scaling-search to
read: these are the hand-off (:func:`~scaling_search.handoff.deployables.write_deployables`).
"""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, fmt, path_arg, progress, render_table

DESCRIPTION = """\
Write deployable files of a family's members for other tools: per member an ONNX file (phiN.onnx:
input "images", N x 3 x R x R float32, output "logits", the batch axis dynamic, eval mode) and a
torch.export program (phiN.pt2), and one manifest.json with each member's layout, params, MACs,
activations, latency (where its study timed that very network), resolution, dropout and
drop-path, and the study and coefficients it came from. Each file is run on random images of
batch sizes 1 and 3 against PyTorch (ONNX files in ONNX Runtime, programs loaded back with
torch.export.load) and kept only when its logits agree within 1e-4 of the largest; the folder is
published whole once every file is written. The weights are the base's initialisation (seed 0):
the files carry the network, to train or time elsewhere (docs/hand-off.md).

The family is a study's best (its answer at its cost scale, on its own base: what its configs/
hold), or the coefficients given, at --base-resolution, --resolution-multiple and --num-classes as
'derive' counts them. --members picks members (default: every one of phi0..phi7 that can be built).

  scaling-search export --alpha 1.2 --beta 1.1 --gamma 1.15 --members phi0,phi2 --out handoff/paper
  scaling-search export --study c10-phi1 --members phi3 --out handoff/c10
  scaling-search export --study c10-phi1 --formats torch-export --out handoff/c10 --json

ONNX needs onnx, onnxscript and onnxruntime: pip install "scaling-search[export]"."""

COLUMNS = [
    ("name", "member", fmt("s")),
    ("resolution", "res", fmt("d")),
    ("dropout", "dropout", fmt(".1f")),
    ("drop_path", "drop-path", fmt(".1f")),
    ("params_m", "params (M)", fmt(".2f")),
    ("macs_g", "GMACs", fmt(".3f")),
    ("latency_ms", "latency (ms)", fmt(".2f")),
    ("files_text", "files", fmt("s")),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="deployable files of a family's members: ONNX, torch.export, a "
                                                  "manifest", description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_argument_group("the family: a study's best, or coefficients")
    source.add_argument("--study", help="the study whose best family to hand off (as 'scaling-search run' named it)")
    source.add_argument("--studies-dir", default="studies", help="folder of study files (default studies)")
    source.add_argument("--storage", help="Optuna storage URL (default sqlite:///<studies-dir>/<study>.db)")
    for flag in (flags.ALPHA, flags.BETA, flags.GAMMA):
        flag.add(source)
    flags.BASE.add(source, sets_default=False, help=f"{flags.BASE.help}; with --study the study's own, and another is "
                                                    "refused")
    flags.BASE_RESOLUTION.add(source, sets_default=False, help="resolution of the base network at phi = 0, with "
                              "coefficients (default the base's own)")
    flags.RESOLUTION_MULTIPLE.add(source, sets_default=False, help="round resolutions to a multiple of this, with "
                                  "coefficients (default 4)")
    flags.NUM_CLASSES.add(source, sets_default=False, help="classifier outputs (default 1000; with --study the "
                          "classes of its cost scale)")
    parser.add_argument("--members", help="members by name or phi, and ranges: phi0,phi2 or phi0-phi7 (default "
                                          "every one of phi0..phi7 that can be built)")
    parser.add_argument("--formats", default="onnx,torch-export",
                        help="file formats, comma-separated: onnx, torch-export (default both)")
    parser.add_argument("--out", type=path_arg, required=True,
                        help="folder to write: new, empty or an earlier export's (replaced whole)")
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scaling_search.handoff.deployables import write_deployables
    from scaling_search.handoff.manifest import MANIFEST_NAME

    manifest = write_deployables(
        args.out, study=args.study, alpha=args.alpha, beta=args.beta, gamma=args.gamma, base=args.base,
        members=args.members, formats=[part.strip() for part in args.formats.split(",") if part.strip()],
        num_classes=args.num_classes, base_resolution=args.base_resolution,
        resolution_multiple=args.resolution_multiple, studies_dir=args.studies_dir, storage=args.storage,
        log=progress)
    out = args.out.expanduser().resolve()
    progress(f"wrote {out}/{MANIFEST_NAME}")
    rows = [{"name": member.name, "resolution": member.layout.resolution, "dropout": member.layout.dropout,
             "drop_path": member.layout.drop_path, "params_m": member.params / 1e6, "macs_g": member.macs / 1e9,
             "latency_ms": None if member.latency is None else member.latency.median_ms,
             "files_text": ", ".join(file.file for file in member.files)} for member in manifest.members]
    source = f"study {manifest.study}" if manifest.study else "coefficients given"
    table = (f"{render_table(rows, COLUMNS)}\n\n({manifest.alpha:g}, {manifest.beta:g}, {manifest.gamma:g}) of "
             f"{manifest.base}, {source}; in {out}")
    emit(args, {"out": str(out), "manifest": str(out / MANIFEST_NAME), **manifest.to_json()}, table)
    return 0
