"""``python -m analysis pitch MEDIA [--json] [--floor HZ] [--ceiling HZ]``: a voice's F0 with
Praat, measured on speech only. MEDIA is a sound file or a video (its soundtrack)."""

from __future__ import annotations

import argparse
import json

from analysis.audio.soundtrack import load_media
from analysis.speech.subtitles import voice_csv
from analysis.speech.voice import VoiceSettings, analyse_voice


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "media", metavar="MEDIA", help="sound (wav, flac, ogg, opus, mp3…) or video (mp4, mkv…)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print the voiced frames {"times_s", "f0_hz", "speech_regions_s", "summary"} as JSON; '
        'no voice gives empty arrays and "voiced_fraction": 0 '
        "(default: CSV of time, F0, intensity and formants F1–F3 of every frame)",
    )
    parser.add_argument(
        "--floor",
        type=float,
        default=None,
        help="lowest pitch, Hz (default: adapted to the speaker, from a 75–600 Hz first pass)",
    )
    parser.add_argument(
        "--ceiling",
        type=float,
        default=None,
        help="highest pitch, Hz (default: adapted to the speaker)",
    )


def run(args: argparse.Namespace) -> int:
    clip = load_media(args.media)
    samples, sample_rate = clip.samples, clip.sample_rate
    settings = VoiceSettings()
    if args.floor is not None or args.ceiling is not None:  # a range given is kept as it is
        settings = settings.with_range(
            settings.pitch_floor_hz if args.floor is None else args.floor,
            settings.pitch_ceiling_hz if args.ceiling is None else args.ceiling,
        )
    voice = analyse_voice(samples, sample_rate, settings)
    if args.json:
        print(json.dumps(voice.to_dict()))
    else:
        print(voice_csv(voice), end="")
    return 0
