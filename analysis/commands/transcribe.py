"""``python -m analysis transcribe MEDIA [--model NAME] [--language CODE|auto]
[--task transcribe|translate] [--json | --format txt|srt|vtt]``: MEDIA is a sound or a video."""

from __future__ import annotations

import argparse
import json
import sys
import time

from analysis.audio.soundtrack import load_media
from analysis.speech.languages import whisper_code
from analysis.speech.subtitles import to_srt, to_txt, to_vtt
from analysis.speech.transcript import heard_language, nothing_heard
from analysis.speech.whisper import (
    DEFAULT_MODEL,
    TASKS,
    WHISPER_MODELS,
    load_detector,
    load_whisper,
    transcribe_audio,
)

FORMATS = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "media", metavar="MEDIA", help="sound (wav, flac, ogg, opus, mp3…) or video (mp4, mkv…)"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help='print {"model", "language", "language_probability", "task", "text", '
        '"segments", "timings_ms"}',
    )
    output.add_argument(
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
        default="auto",
        metavar="CODE",
        help="language spoken, as a code (en, fr…) or a name (French), or auto (default): detected",
    )
    parser.add_argument(
        "--task",
        choices=TASKS,
        default="transcribe",
        help="transcribe in the language spoken (default), or translate to English",
    )


def run(args: argparse.Namespace) -> int:
    language = None if args.language.lower() == "auto" else whisper_code(args.language)
    began = time.perf_counter()
    whisper = load_whisper(args.model)
    detector = None if whisper.multilingual or language else load_detector()
    decode_start = time.perf_counter()
    clip = load_media(args.media)
    samples, sample_rate = clip.samples, clip.sample_rate
    decoded = time.perf_counter()
    transcript = transcribe_audio(
        samples, sample_rate, whisper, language=language, task=args.task, detector=detector
    )
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
        print(nothing_heard(transcript), file=sys.stderr)
    else:
        print(FORMATS[args.format](transcript), end="")
        print(heard_language(transcript), file=sys.stderr)
    return 0
