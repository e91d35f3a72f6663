"""``scaling-search report``: tables and figures of a study, or of the released family (``--paper``)."""

from __future__ import annotations

import argparse

from scaling_search.cli import flags
from scaling_search.cli.common import add_output_flags, emit, path_arg, progress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="the alpha/beta/gamma table, family table and figures of a study",
        description="Write reports/<study>/: the alpha/beta/gamma table (md, csv, tex), the derived family beside\n"
        "the released one and the paper's Table 2, figures (png, svg) and an index.md that shows them.\n"
        "Reads the study only; trains nothing.\n\n"
        "  scaling-search report c10-phi1\n"
        "  scaling-search report c10-phi1 --format md,csv,tex --out somewhere/\n"
        "  scaling-search report --paper              the released B0-B7 measured here against the paper\n"
        "  scaling-search report c10-phi1 --json      the files written, as JSON",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("study", nargs="?", help="study name")
    flags.STUDY_BASE.add(parser)
    parser.add_argument("--paper", action="store_true", help="report the released family only (no study needed)")
    parser.add_argument("--format", default="md,csv,tex", help="table formats, comma-separated: md, csv, tex "
                                                               "(default all)")
    parser.add_argument("--out", type=path_arg, help="output folder (default reports/<study> or reports/paper)")
    parser.add_argument("--note", help="a sentence shown under the report's title (e.g. how the run was reduced)")
    parser.add_argument("--studies-dir", default="studies", help="folder of study files (default studies)")
    parser.add_argument("--storage", help="Optuna storage URL (default sqlite:///<studies-dir>/<study>.db)")
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from scaling_search.reporting.api import report
    from scaling_search.support.publish import MANIFEST

    out = report(args.study, paper=args.paper, studies_dir=args.studies_dir, storage=args.storage, out=args.out,
                 note=args.note, base=args.base,
                 formats=[part.strip() for part in args.format.split(",") if part.strip()])
    progress(f"wrote {out}/index.md")
    files = [str(out / name) for name in (out / MANIFEST).read_text().splitlines()]
    emit(args, {"out": str(out), "index": str(out / "index.md"), "files": files}, str(out / "index.md"))
    return 0
