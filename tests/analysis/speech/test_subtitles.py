"""Transcript and voice exports: TXT, SRT, WebVTT, CSV and a TextGrid that Praat reads."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import parselmouth
import pytest
from parselmouth.praat import call

from analysis.speech.subtitles import (
    clock,
    to_srt,
    to_textgrid,
    to_txt,
    to_vtt,
    voice_csv,
    words_csv,
)
from analysis.speech.voice import Voice
from analysis.speech.whisper import Segment, Transcript, Word


def words(*items: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(start, end, f" {text}", 0.9) for start, end, text in items)


@pytest.fixture
def transcript() -> Transcript:
    """Two phrases, a pause between them, a quote to escape, and words that overlap a little."""
    first = words((0.5, 0.9, "Hello,"), (0.9, 1.6, "world."))
    second = words((3725.2, 3725.6, "Say"), (3725.55, 3726.1, '"cheese".'))
    return Transcript(
        model="whisper-tiny.en",
        language="en",
        language_probability=1.0,
        duration_s=3727.0,
        segments=(
            Segment(0.5, 1.6, "Hello, world.", first),
            Segment(3725.2, 3726.1, 'Say "cheese".', second),
        ),
        speech_regions=np.array([[0.3, 1.8], [3725.0, 3726.3]]),
    )


def test_clock_formats_hours_minutes_seconds_and_milliseconds():
    assert clock(0.0) == "00:00:00.000"
    assert clock(3725.2) == "01:02:05.200"
    assert clock(59.9996, ",") == "00:01:00,000"  # rounds to the millisecond
    assert clock(-0.001) == "00:00:00.000"


def test_txt_has_one_line_per_phrase(transcript):
    assert to_txt(transcript) == 'Hello, world.\nSay "cheese".\n'


def test_srt_cues_are_numbered_timed_and_separated(transcript):
    assert to_srt(transcript) == (
        "1\n00:00:00,500 --> 00:00:01,600\nHello, world.\n"
        "\n"
        '2\n01:02:05,200 --> 01:02:06,100\nSay "cheese".\n'
    )


def test_webvtt_starts_with_its_signature_and_uses_dots(transcript):
    text = to_vtt(transcript)
    assert text.startswith("WEBVTT\n\n")
    timings = re.findall(r"^(\S+) --> (\S+)$", text, flags=re.MULTILINE)
    assert timings == [("00:00:00.500", "00:00:01.600"), ("01:02:05.200", "01:02:06.100")]


def test_webvtt_escapes_what_would_read_as_markup_and_srt_and_txt_keep_the_text():
    said = "AT&T: x < y --> z"
    transcript = Transcript(
        "whisper-tiny.en", "en", 1.0, 2.0, (Segment(0.0, 1.0, said, ()),), np.zeros((0, 2))
    )
    assert to_vtt(transcript).endswith("\nAT&amp;T: x &lt; y -> z\n")
    assert to_srt(transcript).endswith(f"\n{said}\n") and to_txt(transcript) == f"{said}\n"


def test_words_csv_has_a_row_per_word(transcript):
    rows = list(csv.DictReader(io.StringIO(words_csv(transcript))))
    assert [row["word"] for row in rows] == ["Hello,", "world.", "Say", '"cheese".']
    assert rows[0] == {
        "start_s": "0.500",
        "end_s": "0.900",
        "word": "Hello,",
        "probability": "0.900",
    }


def test_voice_csv_leaves_unknown_values_empty():
    voice = Voice(
        times=np.array([0.005, 0.015]),
        f0_hz=np.array([np.nan, 220.0]),
        intensity_db=np.array([-30.0, -9.0]),
        formants_hz=np.array([[np.nan] * 3, [700.0, 1220.0, 2600.0]]),
    )
    assert voice_csv(voice).splitlines() == [
        "time_s,f0_hz,intensity_db,f1_hz,f2_hz,f3_hz",
        "0.005,,-30.00,,,",
        "0.015,220.00,-9.00,700.0,1220.0,2600.0",
    ]


def test_praat_reads_the_textgrid_with_its_tiers_times_and_labels(transcript, tmp_path):
    path = tmp_path / "transcript.TextGrid"
    path.write_text(to_textgrid(transcript), encoding="utf-8")
    grid = parselmouth.read(str(path))
    assert call(grid, "Get number of tiers") == 2
    assert call(grid, "Get tier name", 1) == "segments"
    assert call(grid, "Get tier name", 2) == "words"
    assert grid.xmax == pytest.approx(3727.0)

    def intervals(tier: int) -> list[tuple[float, float, str]]:
        count = call(grid, "Get number of intervals", tier)
        return [
            (
                call(grid, "Get start time of interval", tier, i),
                call(grid, "Get end time of interval", tier, i),
                call(grid, "Get label of interval", tier, i),
            )
            for i in range(1, count + 1)
        ]

    assert intervals(1) == [
        (0.0, 0.5, ""),
        (0.5, 1.6, "Hello, world."),
        (1.6, 3725.2, ""),
        (3725.2, 3726.1, 'Say "cheese".'),
        (3726.1, 3727.0, ""),
    ]
    labelled = [(s, e, text) for s, e, text in intervals(2) if text]
    # The overlapping word starts where the previous one ends: tiers cannot overlap.
    assert labelled == [
        (0.5, 0.9, "Hello,"),
        (0.9, 1.6, "world."),
        (3725.2, 3725.6, "Say"),
        (3725.6, 3726.1, '"cheese".'),
    ]


def test_an_empty_transcript_gives_empty_files_and_a_valid_textgrid(tmp_path):
    empty = Transcript("whisper-tiny.en", "en", 1.0, 2.5, (), np.zeros((0, 2)))
    assert to_txt(empty) == "" and to_srt(empty) == "" and to_vtt(empty) == "WEBVTT\n\n"
    path = tmp_path / "empty.TextGrid"
    path.write_text(to_textgrid(empty), encoding="utf-8")
    grid = parselmouth.read(str(path))
    assert call(grid, "Get number of intervals", 1) == 1
    assert grid.xmax == pytest.approx(2.5)
