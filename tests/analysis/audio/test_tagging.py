"""YAMNet sound-event tagging: framing, result shape, the model on real speech, and the CLI."""

from __future__ import annotations

import json
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

import models.locate
from analysis.audio.resample import mono_at
from analysis.audio.tagging import (
    FRAME_SAMPLES,
    HOP_SAMPLES,
    SAMPLE_RATE,
    Tagging,
    YamNet,
    frame_count,
    frame_signal,
    frame_times,
    load_yamnet,
    tag_audio,
)
from analysis.commands import cli
from analysis.errors import InputError
from models.locate import MissingModelError, MissingRuntimeError
from tests.conftest import require_model


@pytest.fixture(scope="module")
def yamnet() -> YamNet:
    require_model("yamnet")
    return load_yamnet()


# --- framing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_samples", "expected"),
    [
        (1, 1),
        (FRAME_SAMPLES - 1, 1),
        (FRAME_SAMPLES, 1),
        (FRAME_SAMPLES + 1, 2),
        (FRAME_SAMPLES + HOP_SAMPLES, 2),
        (FRAME_SAMPLES + HOP_SAMPLES + 1, 3),
        (10 * SAMPLE_RATE, 20),  # 1 + ceil((160000 - 15600) / 7680)
    ],
)
def test_frame_count_covers_every_sample(n_samples, expected):
    assert frame_count(n_samples) == expected
    last_start = (expected - 1) * HOP_SAMPLES
    assert last_start + FRAME_SAMPLES >= n_samples


def test_frame_times_step_by_the_hop_and_end_at_the_recording_end():
    starts, ends = frame_times(10 * SAMPLE_RATE)
    np.testing.assert_allclose(starts, np.arange(20) * 0.48)
    np.testing.assert_allclose(ends[:-1], starts[:-1] + 0.975)
    assert ends[-1] == pytest.approx(10.0)


def test_audio_shorter_than_one_frame_is_padded_to_one_frame():
    waveform = np.full(4000, 0.5, dtype=np.float32)  # 0.25 s
    frames = frame_signal(waveform)
    assert frames.shape == (1, FRAME_SAMPLES)
    np.testing.assert_array_equal(frames[0, :4000], 0.5)
    np.testing.assert_array_equal(frames[0, 4000:], 0.0)
    starts, ends = frame_times(len(waveform))
    assert starts.tolist() == [0.0] and ends.tolist() == [0.25]


def test_frames_are_hop_spaced_windows_of_the_signal():
    waveform = np.arange(3 * SAMPLE_RATE, dtype=np.float32) / (3 * SAMPLE_RATE)
    frames = frame_signal(waveform)
    assert frames.shape == (frame_count(len(waveform)), FRAME_SAMPLES)
    np.testing.assert_array_equal(frames[1], waveform[HOP_SAMPLES : HOP_SAMPLES + FRAME_SAMPLES])
    tail = len(waveform) - (len(frames) - 1) * HOP_SAMPLES
    np.testing.assert_array_equal(frames[-1, tail:], 0.0)


# --- model input ----------------------------------------------------------------------


def test_model_input_is_mono_16k_float32():
    t = np.arange(44_100) / 44_100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)]).astype(np.float32)
    waveform = mono_at(stereo, 44_100, 16_000)
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert len(waveform) == SAMPLE_RATE
    # Averaging the channels halves the 440 Hz sine's amplitude.
    assert np.abs(waveform[1000:-1000]).max() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("samples", "sample_rate"),
    [
        (np.zeros(0, dtype=np.float32), 16_000),
        (np.zeros((2, 0), dtype=np.float32), 16_000),
        (np.zeros((1, 1, 100), dtype=np.float32), 16_000),
        (np.zeros(100, dtype=np.float32), 0),
    ],
)
def test_bad_model_input_is_an_input_error(samples, sample_rate):
    with pytest.raises(InputError):
        mono_at(samples, sample_rate, 16_000)


# --- results --------------------------------------------------------------------------


def known_tagging() -> Tagging:
    """Three frames over classes a, b, c: a leads on average, c peaks in the last frame."""
    scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.3, 0.1], [0.4, 0.2, 0.7]], dtype=np.float32)
    starts, ends = frame_times(FRAME_SAMPLES + 2 * HOP_SAMPLES)
    return Tagging(scores, starts, ends, ("a", "b", "c"))


def test_top_labels_are_mean_scores_sorted_best_first():
    top = known_tagging().top(3)
    assert [tag.label for tag in top] == ["a", "c", "b"]
    assert [tag.score for tag in top] == pytest.approx([0.7, 0.8 / 3, 0.2])


def test_segments_hold_each_frames_times_and_best_labels():
    segments = known_tagging().segments(2)
    assert [s.start for s in segments] == pytest.approx([0, 0.48, 0.96])
    assert [s.end for s in segments] == pytest.approx([0.975, 1.455, 1.935])
    labels = [[tag.label for tag in segment.labels] for segment in segments]
    assert labels == [["a", "b"], ["a", "b"], ["c", "a"]]


def test_a_range_keeps_the_frames_centred_in_it():
    tagging = known_tagging()  # centres 0.4875, 0.9675, 1.4475 s
    assert tagging.between(0.9, 2.0).starts.tolist() == pytest.approx([0.48, 0.96])
    assert tagging.between(0.9, 2.0).top(1)[0].label == "a"
    assert tagging.between(1.3, 2.0).top(1)[0].label == "c"
    # Narrower than the hop, with no centre inside: the nearest frame stands for it.
    assert tagging.between(0.9, 0.92).starts.tolist() == pytest.approx([0.48])


def test_json_shape_lists_labels_by_score_and_segments_with_times():
    result = json.loads(json.dumps(known_tagging().to_dict(2)))
    assert set(result) == {"labels", "segments"}
    assert result["labels"] == [
        {"label": "a", "score": pytest.approx(0.7)},
        {"label": "c", "score": pytest.approx(0.2667, abs=1e-4)},
    ]
    assert len(result["segments"]) == 3
    first = result["segments"][0]
    assert set(first) == {"start", "end", "labels"}
    assert first["start"] == 0 and first["end"] == pytest.approx(0.975)
    for segment in result["segments"]:
        scores = [tag["score"] for tag in segment["labels"]]
        assert len(scores) == 2 and scores == sorted(scores, reverse=True)


# --- missing model or runtime -------------------------------------------------------


def test_missing_model_files_say_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    with pytest.raises(MissingModelError, match=r"yamnet\.tflite.*python -m models fetch yamnet"):
        load_yamnet()


def test_missing_runtime_is_a_missing_model_error_saying_what_to_install(monkeypatch):
    paths = require_model("yamnet")
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    with pytest.raises(MissingRuntimeError, match="pip install ai-edge-litert"):
        YamNet(paths["model"], paths["class_map"])
    assert issubclass(MissingRuntimeError, MissingModelError)


# --- the model on real and synthetic sounds -------------------------------------------


def test_espeak_speech_is_tagged_speech(yamnet, speech_wav):
    samples, sample_rate = sf.read(speech_wav, dtype="float32", always_2d=True)
    calls = []
    tagging = tag_audio(samples.T, sample_rate, yamnet, lambda done, total: calls.append(done))
    assert tagging.class_names[0] == "Speech" and len(tagging.class_names) == 521
    assert tagging.top(1)[0].label == "Speech"
    assert tagging.scores.shape == (frame_count(len(samples) * 16_000 // sample_rate), 521)
    assert calls[-1] == len(tagging.scores) and calls == sorted(calls)
    speech_frames = [s.labels[0].label == "Speech" for s in tagging.segments(1)]
    assert np.mean(speech_frames) > 0.6


def test_a_tone_and_noise_are_not_speech(yamnet):
    t = np.arange(3 * 44_100) / 44_100
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
    noise = np.random.default_rng(0).normal(0, 0.2, t.size)
    for sound in (tone, noise):
        top = tag_audio(sound.astype(np.float32), 44_100, yamnet).top(3)
        assert "Speech" not in [tag.label for tag in top], top


def test_silence_shorter_than_a_frame_is_silence(yamnet):
    tagging = tag_audio(np.zeros(800, dtype=np.float32), 8_000, yamnet)
    assert len(tagging.scores) == 1
    assert tagging.top(1)[0].label == "Silence"


def test_sessions_tagging_at_once_get_the_same_results(yamnet, speech_wav):
    samples, sample_rate = sf.read(speech_wav, dtype="float32")
    alone = tag_audio(samples, sample_rate, yamnet).scores
    results = [None] * 4

    def tag(i: int) -> None:
        results[i] = tag_audio(samples, sample_rate, yamnet).scores

    threads = [threading.Thread(target=tag, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for scores in results:
        np.testing.assert_array_equal(scores, alone)


# --- command line ---------------------------------------------------------------------


def test_cli_json_tags_speech(speech_wav, capsys):
    require_model("yamnet")
    assert cli.main(["tags", str(speech_wav), "--json", "--top", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["labels"][0]["label"] == "Speech"
    assert len(result["labels"]) == 3
    assert all(len(segment["labels"]) == 3 for segment in result["segments"])
    assert result["segments"][0]["start"] == 0


def test_cli_table_is_readable(speech_wav, capsys):
    require_model("yamnet")
    assert cli.main(["tags", str(speech_wav)]) == 0
    out = capsys.readouterr().out
    header, first = out.splitlines()[:2]
    assert header.split() == ["score", "label"]
    assert first.split()[1] == "Speech"
    assert "start s" in out


def test_cli_reports_a_corrupt_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really audio")
    assert cli.main(["tags", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_cli_without_the_model_says_how_to_get_it(speech_wav, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(models.locate, "model_dirs", lambda: [tmp_path])
    assert cli.main(["tags", str(speech_wav)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "python -m models fetch yamnet" in err
