"""The spectrogram picture's axes: pixel ↔ time and frequency on every scale, as drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from analysis.audio.axes import PlotAxes, plot_axes, rows_bottom
from analysis.audio.mel import hz_to_mel, mel_to_hz
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.audio.stft import STFTParams
from analysis.figures import SPECTROGRAM_LAYOUT

RATE = 22050
PLOT = (84, 16, 996, 406)  # SPECTROGRAM_LAYOUT's plot area: left, top, width, height
BOTTOM = PLOT[1] + PLOT[3]


def tone_burst(seconds: float = 4.0) -> np.ndarray:
    """1 kHz at half scale from 1 s to 3 s, silence around it."""
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.5 * np.sin(2 * np.pi * 1000 * t) * ((t >= 1) & (t < 3))).astype(np.float32)


def axes(scale: str, fmin: float, fmax: float) -> PlotAxes:
    return PlotAxes(2.0, 6.0, fmin, fmax, scale, PLOT, (1200, 480))


def test_time_is_linear_across_the_plot():
    view = axes("linear", 0, 8000)
    assert view.x_of(2.0) == 84 and view.x_of(6.0) == 84 + 996
    assert view.x_of(3.0) == pytest.approx(84 + 996 / 4)
    assert view.time_at(84 + 996 / 4) == pytest.approx(3.0)
    x = np.linspace(0, 1200, 7)
    np.testing.assert_allclose(view.x_of(view.time_at(x)), x)


@pytest.mark.parametrize(
    ("scale", "fmin", "fmax", "middle_hz"),
    [
        ("linear", 0, 8000, 4000),
        ("log", 20, 20000, np.sqrt(20 * 20000)),  # 632 Hz: the geometric middle
        ("mel", 0, 8000, float(mel_to_hz(hz_to_mel(8000) / 2))),  # 2.3 kHz: half the mels
    ],
)
def test_frequency_follows_the_scale_from_bottom_to_top(scale, fmin, fmax, middle_hz):
    view = axes(scale, fmin, fmax)
    assert view.y_of(fmin) == pytest.approx(BOTTOM)
    assert view.y_of(fmax) == pytest.approx(PLOT[1])
    assert view.y_of(middle_hz) == pytest.approx(PLOT[1] + PLOT[3] / 2)
    assert view.freq_at(PLOT[1] + PLOT[3] / 2) == pytest.approx(middle_hz)
    hz = np.array([fmin or 1.0, 100.0, 440.0, 1000.0, fmax])
    np.testing.assert_allclose(view.freq_at(view.y_of(hz)), hz)


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_the_axes_match_the_rendered_picture(scale):
    """Where plot_axes puts 1 kHz and the burst's middle is where render_spectrogram drew them."""
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(
        tone_burst(), RATE, STFTParams(1024), scale=scale, max_columns=columns, max_rows=rows
    )
    db, peak = to_db(spec.power, db_range=80)
    picture = render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak, cmap="gray_r")
    darkness = 255 - np.asarray(Image.open(io.BytesIO(picture)).convert("L"), dtype=float)
    view = plot_axes(spec)
    assert view.plot == PLOT and view.image == (1200, 480)
    assert (view.start_s, view.end_s) == (0.0, 4.0)

    middle = round(float(view.x_of(2.0)))
    left, top, width, height = view.plot
    column = darkness[top : top + height, middle]
    tone_row = top + round(np.flatnonzero(column >= column.max() - 1).mean())  # mel rows are 3 px
    assert tone_row == pytest.approx(float(view.y_of(1000.0)), abs=2)
    inside = slice(left + 3, left + width - 3)  # not the axis lines
    lit = np.flatnonzero(darkness[tone_row, inside] > 128) + left + 3
    assert (lit[0] + lit[-1]) / 2 == pytest.approx(middle, abs=2)
    assert lit[-1] - lit[0] == pytest.approx(float(view.x_of(3.0) - view.x_of(1.0)), abs=12)


def test_linear_rows_are_centred_so_the_lowest_is_half_cut_off_at_0_hz():
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    linear = spectrogram(tone_burst(), RATE, scale="linear", max_columns=columns, max_rows=rows)
    view = plot_axes(linear)
    half_row = RATE / 2 / (len(linear.freqs) - 1) / 2
    assert (view.fmin_hz, view.fmax_hz) == pytest.approx((0.0, RATE / 2 + half_row))
    assert rows_bottom(linear) == pytest.approx(-half_row / view.fmax_hz)
    log = spectrogram(tone_burst(), RATE, scale="log", max_columns=columns, max_rows=rows)
    assert rows_bottom(log) == 0.0
    assert (plot_axes(log).fmin_hz, plot_axes(log).fmax_hz) == pytest.approx((20.0, RATE / 2))
