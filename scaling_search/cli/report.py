"""``scaling-search report``: tables and figures of a study, or of the released family (``--paper``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scaling_search.cli.common import UsageError, add_output_flags, emit, path_arg, progress
from scaling_search.search.definition import STUDY_NAME, StudyDefinition


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
    parser.add_argument("--paper", action="store_true", help="report the released family only (no study needed)")
    parser.add_argument("--format", default="md,csv,tex", help="table formats, comma-separated: md, csv, tex "
                                                               "(default all)")
    parser.add_argument("--out", type=path_arg, help="output folder (default reports/<study> or reports/paper)")
    parser.add_argument("--note", help="a sentence shown under the report's title (e.g. how the run was reduced)")
    parser.add_argument("--studies-dir", default="studies", help="folder of study files (default studies)")
    parser.add_argument("--storage", help="Optuna storage URL (default sqlite:///<studies-dir>/<study>.db)")
    add_output_flags(parser, rows=False)
    parser.set_defaults(func=run)


def formats(text: str) -> tuple[str, ...]:
    from scaling_search.reporting.build import FORMATS

    wanted = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if not wanted or unknown:
        raise UsageError(f"--format takes a comma-separated list of {', '.join(FORMATS)}; got {text!r}")
    return wanted


def run(args: argparse.Namespace) -> int:
    from scaling_search.reporting.build import load_report_study, paper_report, study_report

    wanted = formats(args.format)
    if args.paper:
        if args.study:
            raise UsageError("--paper reports the released family; drop the study name or --paper")
        out = paper_report(args.out or Path("reports") / "paper", wanted)
    else:
        if not args.study:
            raise UsageError("name a study (scaling-search report NAME) or use --paper")
        if not STUDY_NAME.fullmatch(args.study) or ".." in args.study:
            raise UsageError(f"study name {args.study!r} must be letters, digits, '.', '_' or '-'")
        definition = StudyDefinition(study=args.study, studies_dir=args.studies_dir, storage=args.storage)
        if not args.storage and not (Path(args.studies_dir) / f"{args.study}.db").exists():
            raise UsageError(f"no study {args.study!r}: {Path(args.studies_dir) / (args.study + '.db')} does not exist")
        study, saved = load_report_study(definition.storage_url(), args.study)
        out = study_report(study, saved, args.out or Path("reports") / args.study, wanted, note=args.note)
    from scaling_search.reporting.build import MANIFEST

    progress(f"wrote {out}/index.md")
    files = [str(out / name) for name in (out / MANIFEST).read_text().splitlines()]
    emit(args, {"out": str(out), "index": str(out / "index.md"), "files": files}, str(out / "index.md"))
    return 0
