"""Transcription with Whisper over voice-activity regions, its CLI and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import soxr

import models.locate
from analysis.audio.decode import load_audio
from analysis.commands.cli import main
from analysis.errors import InputError
from analysis.speech.whisper import (
    Segment,
    Transcript,
    Word,
    load_whisper,
    transcribe_audio,
    windows,
)
from tests.conftest import require_model

KEY_WORDS = ("welcome", "demonstration", "quick", "fox", "lazy", "dog")


@pytest.fixture(scope="session")
def whisper():
    require_model("whisper-tiny.en")
    return load_whisper("whisper-tiny.en")


@pytest.fixture(scope="session")
def speech_clip(speech_wav):
    return load_audio(speech_wav)


@pytest.fixture(scope="session")
def speech_transcript(whisper, speech_clip) -> Transcript:
    """One transcription of espeak-ng's speech, shared by the tests that read it."""
    return transcribe_audio(speech_clip.samples, speech_clip.sample_rate, whisper)


def test_windows_group_consecutive_regions_up_to_30_s():
    regions = np.array([[0.0, 10.0], [12.0, 25.0], [26.0, 31.0], [40.0, 45.0], [80.0, 81.0]])
    assert windows(regions) == [(0.0, 25.0), (26.0, 45.0), (80.0, 81.0)]
    assert windows(np.zeros((0, 2))) == []


def make_transcript() -> Transcript:
    one = (Word(0.5, 0.9, " Hello", 0.9), Word(1.0, 1.5, " there.", 0.8))
    two = (Word(4.0, 4.5, " Good", 0.9), Word(4.6, 5.2, " morning.", 0.7))
    return Transcript(
        "whisper-tiny.en",
        "en",
        1.0,
        6.0,
        (Segment(0.5, 1.5, "Hello there.", one), Segment(4.0, 5.2, "Good morning.", two)),
        np.array([[0.3, 1.7], [3.8, 5.4]]),
    )


def test_a_range_keeps_the_phrases_and_words_inside_it():
    transcript = make_transcript()
    assert transcript.between(0.0, 6.0).segments == transcript.segments
    part = transcript.between(0.0, 4.7)  # "morning." is centred at 4.9 s: outside
    assert [s.text for s in part.segments] == ["Hello there.", "Good"]
    assert part.segments[1].end == 4.5
    assert transcript.between(2.0, 3.5).segments == ()


def test_a_parts_transcript_shifted_counts_from_the_recordings_start():
    part = make_transcript()  # of 6 s of sound that start 10 s into a 60 s recording
    whole = part.shifted(10.0, 60.0)
    assert whole.duration_s == 60.0 and whole.text == part.text
    assert [(s.start, s.end) for s in whole.segments] == [(10.5, 11.5), (14.0, 15.2)]
    assert [w.start for w in whole.words] == [10.5, 11.0, 14.0, 14.6]
    np.testing.assert_allclose(whole.speech_regions, [[10.3, 11.7], [13.8, 15.4]])
    assert whole.speaking_time(10.0, 12.0) == pytest.approx(part.speaking_time(0.0, 2.0))


def test_speaking_time_sums_the_voice_activity_inside_a_range():
    transcript = make_transcript()
    assert transcript.speaking_time() == pytest.approx(1.4 + 1.6)
    assert transcript.speaking_time(1.0, 4.0) == pytest.approx(0.7 + 0.2)


def test_the_json_shape_is_the_documented_one():
    result = make_transcript().to_dict()
    assert {"model", "language", "duration_s", "text", "segments"} <= set(result)
    assert result["text"] == "Hello there. Good morning."
    assert result["segments"][0]["words"][0] == {
        "start": 0.5,
        "end": 0.9,
        "word": "Hello",
        "probability": 0.9,
    }


def test_espeak_speech_is_transcribed_with_its_key_words(speech_transcript, speech_clip):
    text = speech_transcript.text.lower()
    missing = [word for word in KEY_WORDS if word not in text]
    assert not missing, f"{missing} not in {speech_transcript.text!r}"
    assert speech_transcript.language == "en"
    assert speech_transcript.duration_s == pytest.approx(speech_clip.duration, abs=0.01)
    assert speech_transcript.speaking_time() > 0.8 * speech_clip.duration


def test_word_times_are_ordered_and_inside_the_recording(speech_transcript, speech_clip):
    words = speech_transcript.words
    assert len(words) >= 15
    starts = np.array([w.start for w in words])
    ends = np.array([w.end for w in words])
    assert (np.diff(starts) >= 0).all() and (ends >= starts).all()
    assert starts[0] >= 0 and ends[-1] <= speech_clip.duration + 1e-6
    fox = next(w for w in words if "fox" in w.word.lower())
    lazy = next(w for w in words if "lazy" in w.word.lower())
    assert fox.end <= lazy.start  # said in this order


def test_progress_reaches_the_total(whisper, speech_clip):
    calls: list[tuple[float, float]] = []
    transcribe_audio(
        speech_clip.samples[:, : speech_clip.sample_rate * 3],
        speech_clip.sample_rate,
        whisper,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls and calls[-1][0] == pytest.approx(calls[-1][1])
    assert all(done <= total + 1e-9 for done, total in calls)


@pytest.mark.parametrize(
    "signal",
    [
        pytest.param(np.zeros(32_000, np.float32), id="silence"),
        pytest.param(
            sum(
                0.1 * np.sin(2 * np.pi * hz * np.arange(64_000) / 16_000)
                for hz in (261.6, 329.6, 392.0)
            ).astype(np.float32),
            id="a-chord",
        ),
    ],
)
def test_no_speech_gives_an_empty_transcript(whisper, signal):
    transcript = transcribe_audio(signal, 16_000, whisper)
    assert transcript.segments == ()
    assert transcript.speaking_time() == 0.0


def test_a_long_recording_is_read_in_parts_that_never_cut_a_phrase(whisper, speech_clip):
    from analysis.audio.resample import mono_at
    from analysis.speech.whisper import speech_in_parts, speech_regions

    speech = mono_at(speech_clip.samples, speech_clip.sample_rate, 16_000, what="test")
    gap = np.zeros(16_000, np.float32)
    waveform = np.concatenate([speech, gap, speech, gap, speech])
    whole = speech_regions(waveform)
    parts = list(speech_in_parts(waveform, part_s=8.0))  # longer than a phrase, as in use
    assert len(parts) >= 3 and parts[-1][1] == pytest.approx(len(waveform) / 16_000)
    regions = np.concatenate([regions for regions, _ in parts])
    assert (np.diff(regions[:, 0]) > 0).all()  # in order, none found twice
    for start, end in whole:  # every phrase is inside one region of the parts, not cut
        assert ((regions[:, 0] <= start + 0.3) & (regions[:, 1] >= end - 0.3)).any(), (start, end)


def test_parts_give_the_same_words_and_fill_in_as_they_go(whisper, speech_clip, monkeypatch):
    import analysis.speech.whisper

    monkeypatch.setattr(analysis.speech.whisper, "VAD_PART_S", 8.0)
    heard, done = [], []
    gap = np.zeros((1, speech_clip.sample_rate), np.float32)
    samples = np.concatenate([speech_clip.samples, gap, speech_clip.samples], axis=1)
    transcript = transcribe_audio(
        samples,
        speech_clip.sample_rate,
        whisper,
        heard=heard.append,
        progress=lambda seconds, total: done.append((seconds, total, len(heard))),
    )
    assert list(transcript.segments) == heard and transcript.text.lower().count("lazy") == 2
    assert done[-1][0] == pytest.approx(transcript.duration_s) == done[-1][1]
    count = len(transcript.segments)  # the first part's phrases came before the second's
    assert any(s < transcript.duration_s / 2 + 1 and 0 < n < count for s, _, n in done), done


def test_a_fifth_of_a_second_is_not_an_error(whisper, speech_clip):
    short = speech_clip.samples[:, : speech_clip.sample_rate // 5]
    transcript = transcribe_audio(short, speech_clip.sample_rate, whisper)
    assert transcript.duration_s == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (192_000, 8)])
def test_telephone_and_studio_rates_are_transcribed(whisper, speech_clip, rate, channels):
    mono = soxr.resample(speech_clip.samples[0], speech_clip.sample_rate, rate)
    samples = np.tile(mono.astype(np.float32), (channels, 1))
    text = transcribe_audio(samples, rate, whisper).text.lower()
    assert "welcome" in text and "demonstration" in text


def test_english_only_models_refuse_another_language(whisper):
    with pytest.raises(InputError, match="English only"):
        transcribe_audio(np.zeros(16_000, np.float32), 16_000, whisper, language="fr")


def test_an_unknown_model_name_is_refused():
    with pytest.raises(InputError, match="not a Whisper model"):
        load_whisper("yamnet")


@pytest.fixture(scope="module")
def default_model():
    require_model("whisper-base")


def test_the_transcribe_command_prints_json(default_model, speech_wav, capsys):
    assert main(["transcribe", str(speech_wav), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "whisper-base" and result["language"] == "en"
    assert result["task"] == "transcribe" and 0.5 < result["language_probability"] <= 1
    assert "fox" in result["text"].lower()
    segment = result["segments"][0]
    assert {"start", "end", "text", "words", "avg_logprob", "no_speech_prob"} <= set(segment)
    assert {"start", "end", "word", "probability"} == set(segment["words"][0])
    assert {"decode", "transcribe", "total"} <= set(result["timings_ms"])


def test_the_transcribe_command_writes_subtitles(default_model, speech_wav, capsys):
    assert main(["transcribe", str(speech_wav), "--format", "vtt"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("WEBVTT\n\n00:00:0")
    assert "fox" in out.lower()


def test_the_transcribe_command_says_when_there_is_no_speech(default_model, tmp_path, capsys):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(16_000, np.float32), 16_000)
    assert main(["transcribe", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "No speech found."


def test_a_missing_model_is_one_sentence_with_the_way_to_get_it(
    tmp_path, speech_wav, monkeypatch, capsys
):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    assert main(["transcribe", str(speech_wav)]) == 2
    err = capsys.readouterr().err
    assert "python -m models fetch whisper-base" in err
    if models.locate.SHARED_MODELS_DIR.is_dir():  # its parts are there to join
        assert "bash ../shared/models/assemble.sh models" in err
    assert "Traceback" not in err


def mp4_with_sound(path, clip) -> None:
    """An H.264 video of grey frames with ``clip`` as its AAC soundtrack."""
    import av

    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("aac", rate=clip.sample_rate)
        sound.layout = "mono"
        grey = np.full((48, 64, 3), 128, np.uint8)
        for _ in range(round(clip.duration * 10)):
            container.mux(video.encode(av.VideoFrame.from_ndarray(grey, format="rgb24")))
        frame = av.AudioFrame.from_ndarray(clip.samples[:1].copy(), format="flt", layout="mono")
        frame.sample_rate = clip.sample_rate
        container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
        container.mux(video.encode(None))


def test_the_transcribe_command_reads_a_videos_soundtrack(
    default_model, speech_clip, tmp_path, capsys
):
    path = tmp_path / "interview.mp4"
    mp4_with_sound(path, speech_clip)
    assert main(["transcribe", str(path), "--format", "srt"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("1\n00:00:0") and "fox" in captured.out.lower()
    assert captured.err.startswith("Language: English")
