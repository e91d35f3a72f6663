"""The ``scaling-search`` command: one sub-command a module; bad input is one line and exit 2, a bug exit 1."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from scaling_search import __version__
from scaling_search.cli.common import Parser
from scaling_search.errors import InputError
from scaling_search.support.formatting import describe

COMMANDS = ("run", "validate", "dashboard", "report", "flops", "candidates", "proxy_faithfulness", "derive", "train",
            "export_files")
"""Sub-command modules under ``scaling_search.cli``; each has ``register(subparsers)``."""

DESCRIPTION = """\
Find, check and extend EfficientNet's compound-scaling rule on your own data and hardware.

  scaling-search run --phi 1                                        the search (built-in default: synthetic data)
  scaling-search run studies/paper_phi1.toml --data-root ~/data     a committed study definition
  scaling-search run --base resnet50 --phi 1                        the search on another base network
  scaling-search validate NAME                                      does the answer hold on longer runs and scaled up?
  scaling-search dashboard --study NAME                             inspect a study in optuna-dashboard
  scaling-search report NAME                                        the alpha/beta/gamma table and figures
  scaling-search train --dataset synthetic --epochs 2               one short proxy training run
  scaling-search flops --width 1.1 --depth 1.2 --resolution 260     one network's cost
  scaling-search candidates --phi 1 --step 0.05                     (alpha, beta, gamma) under the cost constraint
  scaling-search proxy --tolerance 0.1                              proxy resolutions where gamma can be searched
  scaling-search derive --alpha 1.2 --beta 1.1 --gamma 1.15         phi0..phi7 from coefficients
  scaling-search export --study NAME --members phi3 --out DIR       ONNX and torch.export files of members

Every command takes --help, and --json for machines."""


def build_parser() -> Parser:
    parser = Parser(
        prog="scaling-search", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"scaling-search {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"scaling_search.cli.{name}").register(subparsers)
    return parser


EXIT_CLOSED_PIPE = 128 + 13
"""A reader that closed stdout early (``| head``): the code of a process ended by SIGPIPE, as the shell expects."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return run_command(argv)
        finally:
            sys.stdout.flush()  # output still buffered meets a closed pipe here, not at exit where it is reported
    except BrokenPipeError:
        return closed_pipe()


def run_command(argv: Sequence[str] | None) -> int:
    """Parse the command line and run the command: an error the user can fix is one line and exit 2, a bug exit 1."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = False  # known once the command line parses: a misplaced --debug is a usage error like any other
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit.*")
    warnings.formatwarning = one_line_warning
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        debug = args.debug
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader of stdout went away: not an error (main ends quietly)
        raise
    except (InputError, OSError) as err:  # the user's to fix: bad input, or a file or disk that refused
        if debug:
            raise
        print(f"scaling-search: error: {str(err) or type(err).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scaling-search: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # anything else is a bug in scaling-search, never the user's fault
        if debug:
            raise
        print(f"scaling-search: bug: {describe(err)} (a bug in scaling-search, not your input; "
              "'scaling-search --debug COMMAND ...' shows the traceback to report)", file=sys.stderr)
        return 1


def closed_pipe() -> int:
    """End quietly after stdout's reader went away, as ``head`` expects of the command before it.

    Python's recipe for SIGPIPE: stdout is pointed at devnull, so that the flush at interpreter exit
    does not fail a second time with "Exception ignored ... BrokenPipeError".
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_CLOSED_PIPE


def one_line_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> str:
    """Warnings as one line, like errors, without the source line Python shows by default."""
    return f"scaling-search: warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
