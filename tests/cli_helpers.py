"""Running ``scaling-search`` in the test process, and the one shape every bad-input failure must have."""

from __future__ import annotations

import pytest

from scaling_search.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``scaling-search ARGV`` in this process: its exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command line that must be refused as bad input, and return its one error line."""
    return one_error_line(*run_cli(capsys, *argv))


def one_error_line(code: int, out: str, err: str) -> str:
    """Exit 2, nothing on stdout, one ``scaling-search: error: ...`` line on stderr and no traceback; that line.

    For a command run another way: ``one_error_line(main([...]), *capsys.readouterr())``.
    """
    lines = err.strip().splitlines()
    assert code == 2, err
    assert out == "", out
    assert len(lines) == 1 and lines[0].startswith("scaling-search: error: "), err
    assert "Traceback" not in err
    return lines[0]
