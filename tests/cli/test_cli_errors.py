"""How the CLI tells the user's mistakes (exit 2) from its own bugs (exit 1)."""

import argparse

import pytest

from scaling_search.cli import main
from scaling_search.cli.common import Parser
from scaling_search.errors import InputError


def command_raising(monkeypatch, error: BaseException, debug: bool = False) -> None:
    """Make the next parsed command raise ``error``, as a failing library call inside it would."""

    def fail(args: argparse.Namespace) -> int:
        raise error

    monkeypatch.setattr(Parser, "parse_args", lambda self, argv: argparse.Namespace(func=fail, debug=debug))


@pytest.mark.parametrize("error", [InputError("step must be > 0, got 0"), OSError(28, "No space left on device")])
def test_input_and_system_errors_are_one_line_exit_2(monkeypatch, capsys, error):
    command_raising(monkeypatch, error)
    assert main(["flops"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("scaling-search: error: ") and "bug" not in err


@pytest.mark.parametrize("error", [KeyError("stem"), ValueError("internal invariant"), ZeroDivisionError("x")])
def test_any_other_exception_is_a_bug_exit_1(monkeypatch, capsys, error):
    command_raising(monkeypatch, error)
    assert main(["flops"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"scaling-search: bug: {type(error).__name__}")
    assert "--debug" in err and "Traceback" not in err


def test_debug_shows_the_bug_itself(monkeypatch):
    command_raising(monkeypatch, KeyError("stem"), debug=True)
    with pytest.raises(KeyError, match="stem"):
        main(["--debug", "flops"])


def test_package_errors_are_input_errors():
    from scaling_search.data.dataset import DatasetError
    from scaling_search.reporting.study_load import ReportError
    from scaling_search.study.storage import StorageError

    assert all(issubclass(kind, InputError) for kind in (DatasetError, ReportError, StorageError))
    assert issubclass(InputError, ValueError)  # callers that catch ValueError keep working
