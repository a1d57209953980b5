"""``python -m analysis pitch AUDIO [--json] [--floor HZ] [--ceiling HZ]``: F0 with Praat."""

from __future__ import annotations

import argparse
import json

from analysis.speech.subtitles import voice_csv
from analysis.speech.voice import VoiceSettings, analyse_voice


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="audio file (wav, flac, ogg, opus, mp3…)")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"times_s", "f0_hz" (null where unvoiced), "summary"} as JSON '
        "(default: CSV of time, F0, intensity and formants F1–F3)",
    )
    defaults = VoiceSettings()
    parser.add_argument(
        "--floor", type=float, default=defaults.pitch_floor_hz, help="lowest pitch, Hz (75)"
    )
    parser.add_argument(
        "--ceiling", type=float, default=defaults.pitch_ceiling_hz, help="highest pitch, Hz (600)"
    )


def run(args: argparse.Namespace) -> int:
    from analysis.audio.decode import load_audio  # decoding stack, only needed here

    clip = load_audio(args.audio)
    settings = VoiceSettings(pitch_floor_hz=args.floor, pitch_ceiling_hz=args.ceiling)
    voice = analyse_voice(clip.samples, clip.sample_rate, settings)
    if args.json:
        print(json.dumps(voice.to_dict()))
    else:
        print(voice_csv(voice), end="")
    return 0
