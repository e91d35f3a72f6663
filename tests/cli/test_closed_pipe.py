"""A reader that closes stdout early (``scaling-search derive ... | head -1``) ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scaling_search.cli import EXIT_CLOSED_PIPE

REPO = Path(__file__).resolve().parents[2]
DERIVE = ["derive", "--alpha", "1.2", "--beta", "1.1", "--gamma", "1.15"]


def start(*argv: str) -> subprocess.Popen[str]:
    """``scaling-search ARGV`` in a child process, its stdout a real pipe to this one."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "scaling_search", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_head_reads_one_line_and_the_command_ends_without_an_error():
    process = start(*DERIVE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does after its line
    err = process.stderr.read()
    code = process.wait(timeout=120)
    assert first.split()[:3] == ["name", "source", "phi"]
    assert err == ""
    assert code in (0, EXIT_CLOSED_PIPE)  # 0 when the whole table was already in the pipe before it closed


def test_a_pipe_closed_before_any_output_ends_the_command_quietly():
    process = start(*DERIVE)
    assert process.stdout is not None
    process.stdout.close()  # before the child has imported anything, so its first write meets a closed pipe
    _, err = process.communicate(timeout=120)
    assert err == ""
    assert process.returncode == EXIT_CLOSED_PIPE


def test_help_into_a_closed_pipe_prints_no_error():
    process = start("derive", "--help")
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert err == ""  # argparse itself ignores a failed write of the help, so the exit code stays its own
