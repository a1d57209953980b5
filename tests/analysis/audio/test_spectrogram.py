"""STFT, frequency scales, dB and rendering on generated signals with known answers."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import analysis.audio.spectrogram
from analysis.audio.exports import (
    export_limit_s,
    frames_csv,
    frames_npz,
    grid_csv,
    stft_frames,
)
from analysis.audio.mel import hz_to_mel, mel_to_hz
from analysis.audio.render import render_spectrogram, render_waveform
from analysis.audio.spectrogram import Cancelled, is_silent, spectrogram, to_db
from analysis.audio.stft import WINDOWS, STFTParams, fft_frequencies, frame_count
from analysis.errors import InputError
from analysis.figures import SPECTROGRAM_LAYOUT

SR = 16000


def tone(hz: float, seconds: float = 1.0, sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(spec) -> float:
    return float(spec.freqs[spec.power.mean(axis=1).argmax()])


def test_pure_tone_peaks_in_its_fft_bin_at_its_level():
    n_fft = 1024
    hz = 40 * SR / n_fft  # exactly bin 40: no scalloping loss
    spec = spectrogram(tone(hz), SR, STFTParams(n_fft), scale="linear", max_rows=10_000)
    assert spec.power.shape[0] == n_fft // 2 + 1  # one row per bin when the grid allows
    assert int(spec.power.mean(axis=1).argmax()) == 40
    # Full-scale sine = 0 dB, so amplitude 0.5 peaks at -6.02 dB.
    assert 10 * np.log10(spec.power.max()) == pytest.approx(-6.02, abs=0.05)


@pytest.mark.parametrize("window", list(WINDOWS))
def test_every_window_finds_the_tone(window):
    spec = spectrogram(tone(1000), SR, STFTParams(2048, window=window), scale="linear")
    assert peak_hz(spec) == pytest.approx(1000, abs=2 * SR / 2048)


def test_linear_chirp_peak_track_follows_its_frequency():
    seconds, f0, f1 = 2.0, 500.0, 6000.0
    t = np.arange(int(seconds * SR)) / SR
    chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))).astype(np.float32)
    spec = spectrogram(chirp, SR, STFTParams(1024, hop_length=256), scale="linear")
    centres = (spec.times[:-1] + spec.times[1:]) / 2
    inside = (centres > 0.1) & (centres < seconds - 0.1)  # away from the zero-padded ends
    track = spec.freqs[spec.power.argmax(axis=0)][inside]
    expected = f0 + (f1 - f0) * centres[inside] / seconds
    assert np.abs(track - expected).max() < 2 * SR / 1024


@pytest.mark.parametrize(
    ("n_fft", "hop", "win"), [(1024, None, None), (1024, 128, None), (2048, 512, 1024)]
)
def test_hop_and_window_set_the_frame_count(n_fft, hop, win):
    y = tone(440, seconds=1.0)
    params = STFTParams(n_fft, hop, win)
    spec = spectrogram(y, SR, params, max_columns=100_000)
    expected_hop = hop or (win or n_fft) // 4
    assert spec.params.hop_length == expected_hop
    assert spec.frames == frame_count(len(y), expected_hop) == 1 + len(y) // expected_hop
    assert spec.power.shape[1] == spec.frames  # no pooling needed


def test_frames_are_max_pooled_to_the_display_width_and_transients_survive():
    y = np.zeros(SR * 20, dtype=np.float32)
    y[SR * 13 + 100] = 1.0  # a single-sample click at 13 s
    spec = spectrogram(y, SR, STFTParams(512), scale="linear", max_columns=300)
    assert spec.frames > 2000 and spec.power.shape[1] == 300
    loud = np.flatnonzero(spec.power.max(axis=0) > 0)
    assert len(loud) <= 2  # only the click's column(s)
    assert all(spec.times[i] <= 13.01 and spec.times[i + 1] >= 13.0 for i in loud)
    assert spec.times[0] == 0 and spec.times[-1] == pytest.approx(20.0)


def test_log_scale_puts_a_tone_at_its_frequency_on_geometric_rows():
    spec = spectrogram(tone(440), SR, STFTParams(4096), scale="log", max_rows=200)
    ratios = spec.freqs[1:] / spec.freqs[:-1]
    assert np.allclose(ratios, ratios[0])  # evenly spaced in log frequency
    assert peak_hz(spec) == pytest.approx(440, rel=0.03)
    assert spec.fmax == SR / 2


def test_mel_scale_puts_a_tone_in_the_band_around_it():
    spec = spectrogram(tone(2000), SR, STFTParams(2048), scale="mel", n_mels=64)
    assert spec.power.shape[0] == 64
    step = np.diff(hz_to_mel(spec.freqs))
    assert np.allclose(step, step[0])  # evenly spaced in mel
    assert hz_to_mel(peak_hz(spec)) == pytest.approx(float(hz_to_mel(2000)), abs=1.5 * step[0])
    assert 10 * np.log10(spec.power.max()) == pytest.approx(-6.0, abs=1.5)  # unit-peak bands


def test_mel_conversion_round_trips():
    hz = np.array([0.0, 100.0, 1000.0, 8000.0])
    assert np.allclose(mel_to_hz(hz_to_mel(hz)), hz)
    assert hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.5)


def test_time_range_selects_the_part_of_the_signal():
    y = np.concatenate([tone(500, 1.0), tone(3000, 1.0)])
    first = spectrogram(y, SR, STFTParams(1024), scale="linear", end_s=0.9)
    second = spectrogram(y, SR, STFTParams(1024), scale="linear", start_s=1.1)
    assert peak_hz(first) == pytest.approx(500, abs=20)
    assert peak_hz(second) == pytest.approx(3000, abs=20)
    assert second.times[0] == pytest.approx(1.1) and second.times[-1] == pytest.approx(2.0)


def test_db_range_floors_at_peak_minus_range():
    power = np.array([[1e-20, 1e-6, 1e-3, 0.25]], dtype=np.float32)
    db, peak = to_db(power, db_range=40)
    assert peak == pytest.approx(10 * np.log10(0.25))
    assert db.max() == pytest.approx(peak, abs=1e-4)
    assert db.min() == pytest.approx(peak - 40, abs=1e-4)
    relative, top = to_db(power, db_range=60, ref="peak")
    assert top == 0.0 and relative.min() == pytest.approx(-60)


def test_silence_is_flat_and_finite():
    spec = spectrogram(np.zeros(SR, dtype=np.float32), SR, STFTParams(1024))
    db, peak = to_db(spec.power, db_range=80, ref="peak")
    assert is_silent(spec.power)
    assert np.isfinite(db).all() and np.ptp(db) == 0 and peak == 0.0


def test_a_clip_shorter_than_the_fft_is_zero_padded():
    short = tone(1000, seconds=0.02)  # 320 samples, FFT of 2048
    spec = spectrogram(short, SR, STFTParams(2048), scale="linear")
    assert spec.frames == frame_count(len(short), 512) == 1
    assert peak_hz(spec) == pytest.approx(1000, abs=50)


@pytest.mark.parametrize(
    ("params", "kwargs", "message"),
    [
        (STFTParams(8), {}, "FFT size"),
        (STFTParams(1024, win_length=2048), {}, "window length"),
        (STFTParams(1024, hop_length=0), {}, "hop length"),
        (STFTParams(1024, window="kaiserish"), {}, "Unknown window"),
        (STFTParams(1024), {"scale": "bark"}, "frequency scale"),
        (STFTParams(1024), {"start_s": 0.8, "end_s": 0.2}, "time range"),
        (STFTParams(1024), {"scale": "mel", "n_mels": 0}, "mel bands"),
    ],
)
def test_bad_parameters_are_one_clear_input_error(params, kwargs, message):
    with pytest.raises(InputError, match=message):
        spectrogram(tone(440), SR, params, **kwargs)


def test_fft_frequencies_end_at_nyquist():
    freqs = fft_frequencies(SR, 1024)
    assert len(freqs) == 513 and freqs[-1] == SR / 2


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_rendered_image_has_the_layout_size(scale):
    columns, _rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(tone(440, 2.0), SR, STFTParams(1024), scale=scale, max_columns=columns)
    db, peak = to_db(spec.power, db_range=80)
    for image_format, magic in (("png", b"\x89PNG"), ("jpeg", b"\xff\xd8")):
        data = render_spectrogram(
            spec, db, db_floor=peak - 80, db_top=peak, image_format=image_format
        )
        assert data.startswith(magic)
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (SPECTROGRAM_LAYOUT.width, SPECTROGRAM_LAYOUT.height)


def test_waveform_renders_silence_and_sound():
    for y in (np.zeros(100, dtype=np.float32), tone(440)):
        with Image.open(io.BytesIO(render_waveform(y, SR))) as image:
            assert image.width == SPECTROGRAM_LAYOUT.width  # lines up with the spectrogram


def test_command_line_writes_a_png(tmp_path):
    import soundfile as sf

    source = tmp_path / "tone.flac"
    sf.write(source, tone(440, 1.0), SR)
    out = tmp_path / "spec.png"
    command = [sys.executable, "-m", "analysis", "spectrogram", str(source), "-o", str(out)]
    options = ["--n-fft", "1024", "--hop", "256", "--window", "hamming", "--scale", "mel"]
    result = subprocess.run(command + options, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as picture:  # the file name and settings on a title line above
        assert picture.height > SPECTROGRAM_LAYOUT.height
    bad = subprocess.run([*command, "--n-fft", "8"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: The FFT size")


def test_csv_has_times_across_and_frequencies_down():
    spec = spectrogram(tone(1000, 0.5), SR, STFTParams(512), scale="mel", n_mels=20)
    db, _ = to_db(spec.power)
    lines = grid_csv(spec, db).splitlines()
    header = lines[0].split(",")
    assert header[0] == "frequency_hz" and len(header) == spec.power.shape[1] + 1
    assert float(header[1]) == 0.0
    assert len(lines) == 21
    first = [float(v) for v in lines[1].split(",")]
    assert first[0] == pytest.approx(spec.freqs[0], abs=0.01)
    assert first[1:] == pytest.approx(db[0], abs=0.01)


def test_a_time_range_sees_the_signal_around_it_so_its_edges_stay_clean():
    y = tone(1000, seconds=2.0)
    spec = spectrogram(y, SR, STFTParams(1024), scale="linear", start_s=0.5, end_s=1.5)
    high = spec.freqs > 4000
    # A zero-padded cut would splash the onset across all frequencies in the edge columns.
    edges = spec.power[high][:, [0, -1]]
    assert 10 * np.log10(edges.max() + 1e-30) < -80


# --- bounded work on long ranges ------------------------------------------------------------


def test_a_long_range_computes_one_frame_in_n_and_every_column_still_has_data():
    y = tone(1000, seconds=30.0)  # hop 32: 15 001 frames x 1024 = 15.4 M samples of FFT work
    params = STFTParams(1024, hop_length=32)
    spec = spectrogram(y, SR, params, scale="linear", max_columns=300, max_fft_work=2_000_000)
    assert spec.frames == 15_001 and spec.frame_step == 8  # ceil(15.4 M / 2 M)
    assert spec.power.shape[1] == 300 and np.isfinite(spec.power).all()
    assert np.abs(spec.freqs[spec.power.argmax(axis=0)] - 1000).max() <= 16
    # However small the budget, at least one frame per column: no column left empty.
    starved = spectrogram(y, SR, params, scale="linear", max_columns=300, max_fft_work=1)
    assert starved.frame_step == 15_001 // 300 and (starved.power.max(axis=0) > 0.05).all()


def test_a_short_range_or_no_budget_computes_every_frame():
    y = tone(1000, seconds=30.0)
    params = STFTParams(1024, hop_length=32)
    zoomed = spectrogram(y, SR, params, start_s=10, end_s=12, max_fft_work=2_000_000)
    assert zoomed.frame_step == 1
    assert spectrogram(y, SR, params, max_fft_work=None).frame_step == 1


def test_the_default_budget_bounds_a_30_minute_file_at_hop_32_and_fft_16384():
    y = np.zeros(30 * 60 * 44100, dtype=np.float32)
    columns = SPECTROGRAM_LAYOUT.plot_size[0]
    spec = spectrogram(y, 44100, STFTParams(16384, hop_length=32), max_columns=columns)
    computed = -(-spec.frames // spec.frame_step)
    assert computed * 16384 <= analysis.audio.spectrogram.MAX_FFT_WORK + columns * 16384


def test_a_cancelled_callback_stops_the_computation_between_batches(monkeypatch):
    computed = []
    magnitude = analysis.audio.spectrogram.frame_magnitude
    monkeypatch.setattr(
        analysis.audio.spectrogram,
        "frame_magnitude",
        lambda *args: computed.append(1) or magnitude(*args),
    )
    y, params = tone(440, seconds=60.0), STFTParams(16384, hop_length=512)
    asked = []

    def never() -> bool:
        asked.append(1)
        return False

    spectrogram(y, SR, params, max_columns=2000, max_fft_work=None, cancelled=never)
    batches = len(computed)
    assert batches > 20 and len(asked) == batches  # asked once per batch

    calls = []

    def after_three_calls() -> bool:
        calls.append(1)
        return len(calls) >= 3

    computed.clear()
    with pytest.raises(Cancelled):
        spectrogram(y, SR, params, max_columns=2000, max_fft_work=None, cancelled=after_three_calls)
    assert len(calls) == 3  # it stopped as soon as told, not at the end
    assert len(computed) < batches / 2  # the batches not yet started never ran


# --- rows below the first FFT bin -----------------------------------------------------------


@pytest.mark.parametrize("scale", ["log", "mel"])
def test_rows_below_half_the_first_bin_are_no_data_not_the_0_hz_bin(scale):
    sr, n_fft = 44100, 256  # bins 172.3 Hz apart: nothing is resolved below ~86 Hz
    y = tone(10_000, seconds=1.0, sr=sr) + np.float32(0.5)  # a high tone and a strong DC
    spec = spectrogram(y, sr, STFTParams(n_fft), scale=scale, max_rows=406)
    half_bin = sr / n_fft / 2
    below = spec.freqs < half_bin
    assert below.sum() >= 3 and np.isnan(spec.power[below]).all()
    assert np.isfinite(spec.power[spec.freqs > half_bin + 1]).all()
    db, peak = to_db(spec.power, db_range=80)
    assert np.isnan(db[below]).all() and np.isfinite(db[~below]).all()
    assert np.isfinite(peak) and not is_silent(spec.power)


def test_the_linear_scale_keeps_its_0_hz_row_and_a_fine_fft_has_no_empty_rows():
    y = tone(1000, seconds=1.0, sr=44100)
    linear = spectrogram(y, 44100, STFTParams(256), scale="linear")
    assert np.isfinite(linear.power).all()
    fine = spectrogram(y, 44100, STFTParams(4096), scale="log")  # half a bin: 5.4 Hz < 20 Hz
    assert np.isfinite(fine.power).all()


def test_no_data_and_silence_in_db():
    power = np.array([[np.nan, np.nan], [0.0, 0.25]], dtype=np.float32)
    db, peak = to_db(power, db_range=40)
    assert peak == pytest.approx(10 * np.log10(0.25)) and np.isnan(db[0]).all()
    assert db[1].tolist() == pytest.approx([peak - 40, peak])
    assert is_silent(np.full((2, 2), np.nan, dtype=np.float32))
    assert to_db(np.full((2, 2), np.nan, dtype=np.float32))[1] == -120.0


# --- exports: every frame, every bin ---------------------------------------------------------


N_FFT, HOP = 1024, 256
TONE_HZ = 40 * SR / N_FFT  # exactly bin 40


def exported_tone():
    """Every frame of 0.5-1.5 s of a 2 s tone."""
    return stft_frames(tone(TONE_HZ, 2.0), SR, STFTParams(N_FFT, HOP), start_s=0.5, end_s=1.5)


def test_every_frame_export_has_true_times_bins_and_the_tone_in_its_bin():
    table = exported_tone()
    assert table.power.shape == (frame_count(SR, HOP), N_FFT // 2 + 1)
    assert np.allclose(table.freqs, np.arange(N_FFT // 2 + 1) * SR / N_FFT)
    assert table.times[0] == 0.5 and np.allclose(np.diff(table.times), HOP / SR)
    assert (table.freqs[table.power.argmax(axis=1)] == TONE_HZ).all()
    assert 10 * np.log10(table.power.max()) == pytest.approx(-6.02, abs=0.05)


def test_every_frame_csv_has_a_row_per_frame_and_a_column_per_bin():
    table = exported_tone()
    db, _ = to_db(table.power, db_range=None)
    lines = frames_csv(table, db).splitlines()
    header = lines[0].split(",")
    assert header[0] == "time_s" and len(header) == N_FFT // 2 + 2
    assert [float(h) for h in header[1:]] == pytest.approx(table.freqs.tolist(), abs=1e-3)
    rows = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert rows.shape == (len(table.times), N_FFT // 2 + 2)
    assert rows[:, 0] == pytest.approx(table.times, abs=1e-6)
    assert (rows[:, 1:].argmax(axis=1) == 40).all()  # the bin of the tone's frequency
    assert rows[:, 1:] == pytest.approx(db, abs=0.006)


def test_every_frame_npz_holds_values_axes_and_settings_without_pickle():
    table = exported_tone()
    db, _ = to_db(table.power, db_range=None, ref="peak")
    data = frames_npz(table, db, db_reference="peak", source="tone.wav")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert npz["db"].shape == db.shape and npz["db"].max() == pytest.approx(0, abs=1e-4)
        assert npz["freqs_hz"][npz["db"].argmax(axis=1)] == pytest.approx(TONE_HZ)
        assert np.allclose(np.diff(npz["times_s"]), HOP / SR)
        settings = (int(npz["n_fft"]), int(npz["hop_length"]), int(npz["win_length"]))
        assert settings == (N_FFT, HOP, N_FFT)
        assert (str(npz["window"]), int(npz["sample_rate"])) == ("hann", SR)
        assert (str(npz["db_reference"]), str(npz["source"])) == ("peak", "tone.wav")


def test_an_export_over_the_cap_names_the_longest_range_that_fits():
    params = STFTParams(1024, 256)
    limit = export_limit_s(params, SR, 100_000)  # 194 frames of 513 bins
    assert limit == pytest.approx(193 * 256 / SR, rel=1e-2) and limit <= 193 * 256 / SR
    assert frame_count(round(limit * SR), 256) * 513 <= 100_000  # the stated range fits
    y = tone(440, seconds=10.0)
    with pytest.raises(InputError, match=f"Select at most {limit:g} s to export every frame"):
        stft_frames(y, SR, params, max_values=100_000)
    assert len(stft_frames(y, SR, params, end_s=limit, max_values=100_000).times) <= 194
