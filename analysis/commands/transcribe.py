"""``python -m analysis transcribe AUDIO [--json] [--format txt|srt|vtt] [--model NAME]``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from analysis.speech.subtitles import to_srt, to_txt, to_vtt
from analysis.speech.whisper import DEFAULT_MODEL, WHISPER_MODELS, load_whisper, transcribe_audio

FORMATS = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt}
NO_SPEECH = "No speech found."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="audio file (wav, flac, ogg, opus, mp3…)")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"model", "language", "duration_s", "text", "segments", "timings_ms"}',
    )
    parser.add_argument(
        "--format",
        choices=list(FORMATS),
        default="txt",
        help="plain text, SubRip or WebVTT subtitles (default: txt)",
    )
    parser.add_argument(
        "--model",
        choices=WHISPER_MODELS,
        default=DEFAULT_MODEL,
        help=f"Whisper model from the catalog (default: {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--language",
        default=None,
        metavar="CODE",
        help="language spoken, e.g. en, fr (default: English, or detected by multilingual models)",
    )


def run(args: argparse.Namespace) -> int:
    from analysis.audio.decode import load_audio  # decoding stack, only needed here

    began = time.perf_counter()
    whisper = load_whisper(args.model)
    decode_start = time.perf_counter()
    clip = load_audio(args.audio)
    decoded = time.perf_counter()
    transcript = transcribe_audio(clip.samples, clip.sample_rate, whisper, language=args.language)
    done = time.perf_counter()
    if args.json:
        result = transcript.to_dict()
        result["timings_ms"] = {
            "load_model": round((decode_start - began) * 1000, 1),
            "decode": round((decoded - decode_start) * 1000, 1),
            "transcribe": round((done - decoded) * 1000, 1),
            "total": round((done - began) * 1000, 1),
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif not transcript.segments:
        print(NO_SPEECH, file=sys.stderr)
    else:
        print(FORMATS[args.format](transcript), end="")
    return 0
