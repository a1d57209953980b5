"""`python -m analysis --help`: its heading names every command the parser has."""

import argparse

from analysis.commands.cli import build_parser


def test_the_help_heading_names_every_registered_command(capsys):
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    registered = list(actions[0].choices)
    assert len(registered) >= 8
    heading = parser.description
    assert f"{len(registered)} commands" in heading
    for name in registered:
        assert name in heading, name
