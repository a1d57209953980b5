"""``python -m analysis tags AUDIO [--json] [--top K]``: the sound events YAMNet hears."""

from __future__ import annotations

import argparse
import json

from analysis.audio.tagging import Tagging, load_yamnet, tag_audio
from analysis.commands.options import positive_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="audio file (wav, flac, ogg, opus, mp3…)")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"labels": [...], "segments": [{"start", "end", "labels"}]} as JSON',
    )
    parser.add_argument(
        "--top",
        type=positive_int,
        default=5,
        metavar="K",
        help="labels to list overall and per segment (default: 5)",
    )


def run(args: argparse.Namespace) -> int:
    from analysis.audio.decode import load_audio  # decoding stack, only needed here

    clip = load_audio(args.audio)
    tagging = tag_audio(clip.samples, clip.sample_rate, load_yamnet())
    if args.json:
        print(json.dumps(tagging.to_dict(args.top), indent=2))
    else:
        print(format_table(tagging, args.top))
    return 0


def format_table(tagging: Tagging, k: int) -> str:
    """Overall labels with a score bar, then each segment's labels, as plain text."""
    lines = ["score  label"]
    for tag in tagging.top(k):
        lines.append(f"{tag.score:5.3f}  {tag.label:<32} {'█' * round(tag.score * 20)}")
    lines += ["", f"{'start s':>7}  {'end s':>7}  labels"]
    for segment in tagging.segments(k):
        labels = ", ".join(f"{tag.label} {tag.score:.2f}" for tag in segment.labels)
        lines.append(f"{segment.start:7.2f}  {segment.end:7.2f}  {labels}")
    return "\n".join(lines)
