"""The network flags' values as one typed set of choose_layout's keywords."""

from __future__ import annotations

from scaling_search.cli import flags
from scaling_search.cli.common import Parser


def test_network_options_hold_every_network_flag_and_nothing_else():
    assert set(flags.NetworkOptions.__annotations__) == {flag.dest for flag in flags.NETWORK}


def test_network_options_read_the_parsed_flags():
    parser = Parser()
    flags.add_network_flags(parser, "the network's own")
    options = flags.network_options(parser.parse_args(["--width", "1.1", "--resolution", "240"]))
    assert options["width"] == 1.1 and options["resolution"] == 240 and options["model"] is None
