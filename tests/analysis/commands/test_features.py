"""``python -m analysis features``: the JSON of the issue, a summary, CSV, ranges and errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
import soundfile

from analysis.commands.cli import main
from tests.analysis.audio.music_signals import RATE, chord_progression, click_track
from tests.support.corpus import AUDIO_CASES


@pytest.fixture(scope="module")
def progression_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("features") / "progression.wav"
    soundfile.write(path, chord_progression(), RATE)
    return path


def test_json_has_every_field_of_the_issue(progression_wav, capsys):
    assert main(["features", str(progression_wav), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for field in ("duration_s", "tempo_bpm", "beats_s", "onsets_s", "key", "key_confidence"):
        assert field in result
    assert result["duration_s"] == pytest.approx(8.0)
    assert result["key"] == "C major" and result["key_sure"]
    assert [c["chord"] for c in result["chords"] if c["chord"] != "N"] == ["C", "F", "G", "C"]
    assert set(result["chords"][0]) == {"start_s", "end_s", "chord"}
    assert set(result["pitch"]) == {"times_s", "f0_hz", "notes"}
    assert {"decode", "beats", "harmony", "pitch", "total"} <= set(result["timings_ms"])


def test_a_range_gives_the_files_times(tmp_path, capsys):
    path = tmp_path / "clicks.wav"
    soundfile.write(path, click_track(120.0, seconds=20.0), RATE)
    assert main(["features", str(path), "--start", "5", "--end", "15", "--json", "--no-pitch"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["duration_s"] == pytest.approx(10.0)
    assert result["tempo_bpm"] == pytest.approx(120.0, rel=0.02) and result["tempo_sure"]
    assert result["beats_s"][0] >= 5.0 and result["beats_s"][-1] <= 15.0
    assert min(abs(result["beats_s"][0] - (0.5 + k * 0.5)) for k in range(40)) < 0.02
    assert result["pitch"] is None


def test_the_summary_says_what_a_person_reads(progression_wav, capsys):
    assert main(["features", str(progression_wav), "--no-pitch"]) == 0
    out = capsys.readouterr().out
    assert "key       C major" in out
    assert "chords    C F G C" in out


def test_csv_has_a_row_per_frame(progression_wav, capsys):
    assert main(["features", str(progression_wav), "--csv", "--end", "2"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:3] == ["time_s", "mfcc_1", "mfcc_2"] and rows[0][-1] == "rms"
    assert len(rows) - 1 == pytest.approx(2.0 * RATE / 512, abs=2)
    assert all(len(row) == len(rows[0]) for row in rows)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--start", "9"], "--start must be from 0 to 8.00 s, not 9 s."),
        (["--start", "3", "--end", "2"], "--end (2 s) must come after --start (3 s)."),
    ],
)
def test_a_bad_range_is_one_sentence(progression_wav, capsys, options, said):
    assert main(["features", str(progression_wav), *options]) == 2
    assert capsys.readouterr().err.strip() == f"error: {said}"


def test_a_file_that_is_not_audio_is_one_sentence(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("not a sound")
    assert main(["features", str(path), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


@pytest.mark.parametrize("case", AUDIO_CASES, ids=lambda c: c.id)
def test_every_corpus_file_gives_features_or_one_sentence(case, tmp_path, capsys):
    path = tmp_path / case.name
    path.write_bytes(case.make())
    code = main(["features", str(path), "--json", "--no-pitch"])
    if case.ok:
        assert code == 0
        result = json.loads(capsys.readouterr().out)
        assert result["duration_s"] > 0 and result["key"]
    else:
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and err[0].endswith("."), err
