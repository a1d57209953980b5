"""``python -m analysis pitch MEDIA``: voiced speech only, from a sound or a video's soundtrack."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile

from analysis.commands.cli import main
from tests.support.corpus import AUDIO_CASES, VIDEO_CASES, Case, gradient
from tests.support.voices import RATE, door_chime, syllables


def pitch_json(path: Path, capsys, *options: str) -> dict:
    assert main(["pitch", str(path), "--json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def wav(tmp_path: Path, samples: np.ndarray, name: str = "sound.wav") -> Path:
    path = tmp_path / name
    soundfile.write(path, samples, RATE)
    return path


def video_with_sound(samples: np.ndarray, path: Path) -> Path:
    """An MP4 (H.264, AAC) of a sliding test card with ``samples`` (16 kHz) as its sound."""
    import av  # test-only dependency (requirements-dev.txt)

    with av.open(str(path), "w") as out:
        pictures = out.add_stream("libx264", rate=25)
        pictures.width, pictures.height, pictures.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=RATE, layout="mono")
        for k in range(round(len(samples) / RATE * 25)):
            card = np.roll(gradient(64, 48), 2 * k, axis=1)
            out.mux(pictures.encode(av.VideoFrame.from_ndarray(card, format="rgb24")))
        piece = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        piece.sample_rate, piece.pts, piece.time_base = RATE, 0, Fraction(1, RATE)
        for stream, last in ((pictures, None), (sound, piece)):
            if last is not None:
                out.mux(stream.encode(last))
            out.mux(stream.encode(None))
    return path


def test_a_door_chime_has_no_voice(tmp_path, capsys):
    result = pitch_json(wav(tmp_path, door_chime()), capsys)
    assert result["times_s"] == result["f0_hz"] == result["speech_regions_s"] == []
    assert result["summary"]["voiced_fraction"] == 0
    assert result["summary"]["median_hz"] is None


def test_a_voice_gives_its_voiced_frames_only(tmp_path, capsys):
    result = pitch_json(wav(tmp_path, syllables(3.0)), capsys)
    summary = result["summary"]
    assert len(result["times_s"]) == len(result["f0_hz"]) > 150
    assert None not in result["f0_hz"]  # voiced frames only, no nulls
    assert summary["voiced_fraction"] == pytest.approx(len(result["f0_hz"]) / 300, abs=0.01)
    assert summary["median_hz"] == pytest.approx(130.0, abs=3.0)
    assert 105.0 <= summary["p5_hz"] < summary["p95_hz"] <= 152.0
    starts, ends = np.array(result["speech_regions_s"]).T
    times = np.array(result["times_s"])
    assert all(((starts <= t) & (t <= ends)).any() for t in times)


def test_a_range_given_is_searched_as_it_is(tmp_path, capsys):
    summary = pitch_json(wav(tmp_path, syllables(3.0)), capsys, "--floor", "90")["summary"]
    assert (summary["floor_hz"], summary["ceiling_hz"]) == (90.0, 600.0)


def test_an_impossible_range_is_one_sentence(tmp_path, capsys):
    assert main(["pitch", str(wav(tmp_path, syllables(1.0))), "--floor", "700"]) == 2
    assert capsys.readouterr().err.startswith("error: The pitch range must satisfy")


def test_the_csv_has_every_frame(tmp_path, capsys):
    assert main(["pitch", str(wav(tmp_path, syllables(1.0)))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "time_s,f0_hz,intensity_db,f1_hz,f2_hz,f3_hz"
    assert len(lines) == 101  # a frame every 10 ms
    assert sum(bool(line.split(",")[1]) for line in lines[1:]) > 50  # voiced frames


def test_a_videos_soundtrack_is_measured(tmp_path, capsys):
    samples = syllables(3.0)
    from_sound = pitch_json(wav(tmp_path, samples), capsys)["summary"]
    video = video_with_sound(samples, tmp_path / "talk.mp4")
    from_video = pitch_json(video, capsys)["summary"]
    assert from_video["median_hz"] == pytest.approx(from_sound["median_hz"], rel=0.02)
    assert from_video["speech_s"] == pytest.approx(from_sound["speech_s"], abs=0.2)


def test_a_video_without_sound_is_one_sentence(tmp_path, capsys):
    mov = next(case for case in VIDEO_CASES if case.id == "video-mov")  # pictures only
    path = tmp_path / mov.name
    path.write_bytes(mov.make())
    assert main(["pitch", str(path)]) == 2
    assert (
        capsys.readouterr().err
        == "error: “clip.mov” is a video without sound: there is nothing to hear.\n"
    )


@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda c: c.id)
def test_no_file_of_the_corpus_escapes_as_a_traceback(case: Case, tmp_path, capsys):
    """Tones, silence, noise and damaged files: no voice, or one sentence; never a crash."""
    path = tmp_path / case.name
    path.write_bytes(case.make())
    code = main(["pitch", str(path), "--json"])
    out, err = capsys.readouterr()
    if code == 0:
        assert json.loads(out)["summary"]["voiced_fraction"] == 0  # none of them is a voice
    else:
        assert code == 2 and err.startswith("error: ") and err.strip().endswith(".")
        assert len(err.strip().splitlines()) == 1
    if not case.ok and case not in VIDEO_CASES:
        assert code == 2
