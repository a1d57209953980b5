"""Command line: ``python -m analysis COMMAND ...``, one command per analysis (see ``--help``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from analysis.errors import InputError
from models.locate import MissingModelError

COMMANDS = {
    "spectrogram": "render an audio file's spectrogram to an image",
    "detect": "detect objects or faces in an image",
    "pose": "find people and their 33 body keypoints in an image (BlazePose)",
    "tags": "tag the sound events heard in an audio file (YAMNet)",
    "transcribe": "transcribe the speech in an audio file (Whisper)",
    "pitch": "measure pitch, intensity and formants of a voice (Praat)",
    "features": "find tempo, beats, key, chords and notes in music (librosa)",
    "video": "detect, track and count what moves in a video",
    "batch": "analyse a whole folder of pictures or sounds on a Dask cluster",
}
"""Each command, the module of ``analysis.commands`` of the same name, and its help."""


def heading() -> str:
    """The ``--help`` heading, made from the registered commands so it never leaves one out."""
    return (
        f"Percept on the command line, {len(COMMANDS)} commands: {', '.join(COMMANDS)}. "
        "Run `python -m analysis COMMAND --help` for one command's options."
    )


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"analysis.commands.{name}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with ``only`` the options of that command alone: a
    command's module imports its libraries (Dask, supervision, matplotlib...), about a second
    each, which the other commands need not pay."""
    parser = argparse.ArgumentParser(prog="python -m analysis", description=heading())
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, help_text in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            command_module(name).add_arguments(subparser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    module = command_module(args.command)
    try:
        return module.run(args)
    except (InputError, MissingModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
