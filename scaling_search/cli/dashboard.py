"""``scaling-search dashboard``: optuna-dashboard on a study's storage, bound to 127.0.0.1 by default."""

from __future__ import annotations

import argparse
import errno
import json
import socket

from scaling_search.cli.common import UsageError, positive_int, progress


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="inspect a study in optuna-dashboard",
        description="Serve optuna-dashboard for a study's storage and print its URL; Ctrl-C stops it.\n\n"
        "  scaling-search dashboard --study c10-phi1\n"
        "  scaling-search dashboard --storage postgresql://user@db/search --port 8081\n"
        "  scaling-search dashboard --study c10-phi1 --json     the URL as JSON, for scripts",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--study", help="study name: its SQLite file studies/<study>.db is served")
    parser.add_argument("--studies-dir", default="studies", help="folder of study files (default studies)")
    parser.add_argument("--storage", help="any Optuna storage URL instead of the study's SQLite file")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: only this machine can connect)")
    parser.add_argument("--port", type=port_number, default=8080, help="port (default 8080)")
    parser.add_argument("--json", action="store_true",
                        help='print {"url", "host", "port", "study"} as one JSON line on stdout once it serves')
    parser.set_defaults(func=run)


def port_number(text: str) -> int:
    port = positive_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in [1, 65535], got {text!r}")
    return port


def storage_url(args: argparse.Namespace) -> str:
    if args.storage is not None:
        if not args.storage.strip():
            raise UsageError("--storage is empty; give a storage URL such as sqlite:///studies/NAME.db")
        return args.storage
    if not args.study:
        raise UsageError("name a study with --study NAME, or a storage with --storage URL")
    from scaling_search.study.location import study_storage_url

    return study_storage_url(args.study, studies_dir=args.studies_dir, must_exist=True)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            hint = "choose another --port" if err.errno == errno.EADDRINUSE else "check --host"
            raise UsageError(f"cannot serve on {host}:{port}: {err.strerror or err}; {hint}") from None


def run(args: argparse.Namespace) -> int:
    from optuna_dashboard import run_server

    from scaling_search.study.storage import find_study, open_storage

    if not args.host.strip():
        raise UsageError("--host must name an address (0.0.0.0 for every interface, if that is what you want)")
    storage = open_storage(storage_url(args), must_exist=True)
    if args.study and find_study(storage, args.study) is None:
        raise UsageError(f"no study named {args.study!r} in that storage")
    check_port_free(args.host, args.port)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown_host}:{args.port}/dashboard/"
    progress(f"optuna-dashboard: {url} (Ctrl-C to stop)")
    if args.json:  # one line, flushed, so a script can read it while the server runs
        print(json.dumps({"url": url, "host": args.host, "port": args.port, "study": args.study}), flush=True)
    try:
        run_server(storage, host=args.host, port=args.port)
    except KeyboardInterrupt:
        progress("dashboard stopped")
    return 0
