"""Transcripts and voice measurements as files: TXT, SRT, WebVTT, CSV and Praat TextGrid.

Every function returns the file's text; times are seconds from the recording's start.

>>> to_srt(transcript)  # doctest: +SKIP
'1\\n00:00:00,000 --> 00:00:02,340\\nHello, and welcome.\\n'
"""

from __future__ import annotations

import csv
import io
import math

from analysis.speech.voice import Voice
from analysis.speech.whisper import Transcript


def clock(seconds: float, separator: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or, with ``separator=","``, ``HH:MM:SS,mmm`` (SRT)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_txt(transcript: Transcript) -> str:
    """The transcript as plain text, one segment per line."""
    return "".join(f"{segment.text}\n" for segment in transcript.segments)


def to_srt(transcript: Transcript) -> str:
    """SubRip subtitles: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, blank-line separated."""
    cues = [
        f"{number}\n{clock(s.start, ',')} --> {clock(s.end, ',')}\n{s.text}\n"
        for number, s in enumerate(transcript.segments, start=1)
    ]
    return "\n".join(cues)


def to_vtt(transcript: Transcript) -> str:
    """WebVTT subtitles (what an HTML ``<track>`` reads)."""
    cues = [
        f"{clock(s.start)} --> {clock(s.end)}\n{_cue_text(s.text)}\n" for s in transcript.segments
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def _cue_text(text: str) -> str:
    """``text`` as WebVTT cue text: "&" and "<" start an entity or a tag there, so they are
    escaped ("&" first, not to escape the escapes); "-->" would end the cue's timing line."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "->")


def words_csv(transcript: Transcript) -> str:
    """One row per word: start_s, end_s, word, probability."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["start_s", "end_s", "word", "probability"])
    for word in transcript.words:
        writer.writerow(
            [f"{word.start:.3f}", f"{word.end:.3f}", word.word.strip(), f"{word.probability:.3f}"]
        )
    return buffer.getvalue()


def voice_csv(voice: Voice) -> str:
    """One row per frame: time_s, f0_hz, intensity_db, f1_hz, f2_hz, f3_hz (empty when unknown)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["time_s", "f0_hz", "intensity_db", "f1_hz", "f2_hz", "f3_hz"])

    def cell(value: float, digits: int) -> str:
        return "" if math.isnan(value) else f"{value:.{digits}f}"

    for time, f0, db, formants in zip(
        voice.times, voice.f0_hz, voice.intensity_db, voice.formants_hz, strict=True
    ):
        writer.writerow([f"{time:.3f}", cell(f0, 2), cell(db, 2), *(cell(f, 1) for f in formants)])
    return buffer.getvalue()


def _seconds(value: float) -> str:
    """A time for a TextGrid: plain decimal seconds, to the microsecond."""
    return repr(round(float(value), 6))


def _tier(name: str, intervals: list[tuple[float, float, str]], end: float) -> list[str]:
    """One TextGrid interval tier; gaps between ``intervals`` become empty intervals."""
    filled: list[tuple[float, float, str]] = []
    now = 0.0
    for start, stop, text in intervals:
        start, stop = max(start, now), min(stop, end)  # Whisper's words may overlap a little
        if stop <= start:
            continue
        if start > now:
            filled.append((now, start, ""))
        filled.append((start, stop, text))
        now = stop
    if now < end or not filled:
        filled.append((now, end, ""))
    lines = [
        '        class = "IntervalTier"',
        f'        name = "{name}"',
        "        xmin = 0",
        f"        xmax = {_seconds(end)}",
        f"        intervals: size = {len(filled)}",
    ]
    for number, (start, stop, text) in enumerate(filled, start=1):
        quoted = text.replace('"', '""')  # Praat escapes a quote by doubling it
        lines += [
            f"        intervals [{number}]:",
            f"            xmin = {_seconds(start)}",
            f"            xmax = {_seconds(stop)}",
            f'            text = "{quoted}"',
        ]
    return lines


def to_textgrid(transcript: Transcript) -> str:
    """A Praat TextGrid (long text format) with a "segments" tier and a "words" tier."""
    end = max([transcript.duration_s] + [s.end for s in transcript.segments], default=0.0)
    tiers = {
        "segments": [(s.start, s.end, s.text) for s in transcript.segments],
        "words": [(w.start, w.end, w.word.strip()) for w in transcript.words],
    }
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0",
        f"xmax = {_seconds(end)}",
        "tiers? <exists>",
        f"size = {len(tiers)}",
        "item []:",
    ]
    for number, (name, intervals) in enumerate(tiers.items(), start=1):
        lines.append(f"    item [{number}]:")
        lines += _tier(name, intervals, end)
    return "\n".join(lines) + "\n"
