"""Options that several commands share, declared once."""

from __future__ import annotations

import argparse

from analysis.errors import InputError


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--json`` and ``--repeat N`` (median timings over N runs), for the picture commands."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run N times after one warm-up and report the median timings",
    )


def repeats(args: argparse.Namespace) -> int:
    """``--repeat``, checked: one sentence for a count below 1."""
    if args.repeat < 1:
        raise InputError(f"--repeat must be at least 1, not {args.repeat}.")
    return args.repeat
