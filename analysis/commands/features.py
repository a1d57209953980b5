"""``python -m analysis features AUDIO [--start S] [--end S] [--json | --csv] [--no-pitch]``.

Tempo and beats, onsets, key, chords and pYIN pitch with note names (librosa), or the MFCC
and spectral features per frame as CSV.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

from analysis.errors import InputError

JSON_FIELDS = (
    '{"duration_s", "tempo_bpm", "tempo_sure", "beat_clarity", "beats_s", "onsets_s", "key", '
    '"key_confidence", "key_sure", "chords": [{"start_s", "end_s", "chord"}], '
    '"pitch": {"times_s", "f0_hz" (null where unvoiced), "notes"}, "timings_ms"}'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="audio file (wav, flac, ogg, opus, mp3…)")
    parser.add_argument("--start", type=float, default=0.0, metavar="S", help="from S seconds")
    parser.add_argument("--end", type=float, default=None, metavar="S", help="to S seconds")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=f"print {JSON_FIELDS}")
    output.add_argument(
        "--csv",
        action="store_true",
        help="print MFCC 1–13, spectral centroid, bandwidth, roll-off, flatness, zero-crossing "
        "rate and RMS per 23 ms frame as CSV",
    )
    parser.add_argument(
        "--no-pitch", action="store_true", help="skip pYIN pitch (most of the time on a song)"
    )


def _range(duration_s: float, start_s: float, end_s: float | None) -> tuple[float, float]:
    """The range asked for, checked against the sound's duration (s)."""
    end_s = duration_s if end_s is None else min(end_s, duration_s)
    if start_s < 0 or start_s >= duration_s:
        raise InputError(f"--start must be from 0 to {duration_s:.2f} s, not {start_s:g} s.")
    if end_s <= start_s:
        raise InputError(f"--end ({end_s:g} s) must come after --start ({start_s:g} s).")
    return start_s, end_s


def summary(music) -> str:
    """What a person reads: tempo, key, chords and notes, each saying when it is unsure."""
    lines = [f"duration  {music.duration_s:.2f} s ({music.start_s:.2f}–{music.end_s:.2f} s)"]
    if music.tempo_sure:
        lines.append(f"tempo     {music.tempo_bpm:.1f} BPM, {len(music.beats_s)} beats")
    else:
        lines.append(f"tempo     no clear beat (clarity {music.beat_clarity:.2f})")
    lines.append(f"onsets    {len(music.onsets_s)}")
    key = music.key
    if key.sure:
        lines.append(f"key       {key.name} (confidence {key.confidence:.2f})")
    else:
        lines.append(
            f"key       unsure: perhaps {key.name} ({key.confidence:.2f}) or {key.runner_up}"
        )
    chords = [chord for chord in music.chords if chord.name != "N"]
    lines.append("chords    " + (" ".join(c.name for c in chords) if chords else "none clear"))
    if music.pitch is not None:
        notes = [note for note in music.pitch.notes if note is not None]
        common = ", ".join(note for note, _ in Counter(notes).most_common(5))
        lines.append(f"notes     {common or 'no steady pitch'}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from analysis.audio.decode import load_audio  # decoding stack, only needed here
    from analysis.audio.music import MusicSettings, analyse_music
    from analysis.audio.timbre import timbre_features

    began = time.perf_counter()
    clip = load_audio(args.audio)
    start_s, end_s = _range(clip.duration, args.start, args.end)
    rate = clip.sample_rate
    samples = clip.samples[:, round(start_s * rate) : round(end_s * rate)]
    decoded = time.perf_counter()
    if args.csv:
        print(timbre_features(samples, rate).shifted(start_s).to_csv(), end="")
        return 0
    settings = MusicSettings(pitch=None) if args.no_pitch else MusicSettings()
    music = analyse_music(samples, rate, settings).shifted(start_s)
    if not args.json:
        print(summary(music), end="")
        return 0
    result = music.to_dict()
    result["timings_ms"] = {
        "decode": round((decoded - began) * 1000, 1),
        **music.timings_ms,
        "total": round((time.perf_counter() - began) * 1000, 1),
    }
    print(json.dumps(result))
    return 0
