"""Command line: ``python -m analysis COMMAND ...``, one command per analysis (see ``--help``)."""

from __future__ import annotations

import argparse
import sys

from analysis.commands import batch, detect, pitch, pose, spectrogram, tags, transcribe, video
from analysis.errors import InputError
from models.locate import MissingModelError

COMMANDS = {
    "spectrogram": (spectrogram, "render an audio file's spectrogram to an image"),
    "detect": (detect, "detect objects or faces in an image"),
    "pose": (pose, "find people and their 33 body keypoints in an image (BlazePose)"),
    "tags": (tags, "tag the sound events heard in an audio file (YAMNet)"),
    "transcribe": (transcribe, "transcribe the speech in an audio file (Whisper)"),
    "pitch": (pitch, "measure pitch, intensity and formants of a voice (Praat)"),
    "video": (video, "detect, track and count what moves in a video"),
    "batch": (batch, "analyse a whole folder of pictures or sounds on a Dask cluster"),
}


def heading() -> str:
    """The ``--help`` heading, made from the registered commands so it never leaves one out."""
    return (
        f"Percept on the command line, {len(COMMANDS)} commands: {', '.join(COMMANDS)}. "
        "Run `python -m analysis COMMAND --help` for one command's options."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=heading())
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        module.add_arguments(subparsers.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, _ = COMMANDS[args.command]
    try:
        return module.run(args)
    except (InputError, MissingModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
