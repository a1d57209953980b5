"""The interactive spectrogram's Python side: pixel ↔ time/frequency, levels, what comes back."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from analysis.audio.mel import hz_to_mel, mel_to_hz
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import STFTParams, spectrogram, to_db
from analysis.errors import InputError
from analysis.figures import SPECTROGRAM_LAYOUT
from ui.spectrogram_view import (
    NO_DATA,
    Reset,
    ViewAxes,
    Zoom,
    _change,
    pooled_levels,
    view_axes,
)

RATE = 22050
PLOT = (84, 16, 996, 406)  # SPECTROGRAM_LAYOUT's plot area: left, top, width, height
BOTTOM = PLOT[1] + PLOT[3]


def axes(scale: str, fmin: float, fmax: float) -> ViewAxes:
    return ViewAxes(2.0, 6.0, fmin, fmax, scale, PLOT, (1200, 480))


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


def tone_burst(seconds: float = 4.0) -> np.ndarray:
    """1 kHz at half scale from 1 s to 3 s, silence around it."""
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.5 * np.sin(2 * np.pi * 1000 * t) * ((t >= 1) & (t < 3))).astype(np.float32)


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_the_axes_match_the_rendered_picture(scale):
    """Where view_axes puts 1 kHz and the burst's middle is where render_spectrogram drew them."""
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(
        tone_burst(), RATE, STFTParams(1024), scale=scale, max_columns=columns, max_rows=rows
    )
    db, peak = to_db(spec.power, db_range=80)
    picture = render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak, cmap="gray_r")
    darkness = 255 - np.asarray(Image.open(io.BytesIO(picture)).convert("L"), dtype=float)
    view = view_axes(spec)
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


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_pooled_levels_keep_the_tone_where_the_picture_shows_it(scale):
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(tone_burst(), RATE, STFTParams(2048), scale=scale, max_columns=columns,
                       max_rows=rows)  # fmt: skip
    db, peak = to_db(spec.power, db_range=80)
    levels = pooled_levels(spec, db)
    assert levels.codes.shape == (db.shape[0], min(160, db.shape[1]))  # every row as drawn
    assert levels.codes.dtype == np.uint8
    assert levels.bottom < 0 if scale == "linear" else levels.bottom == 0
    view = view_axes(spec)
    # The row the readout looks up under the tone's line is the tone's loudest row.
    fraction = (BOTTOM - view.y_of(1000.0)) / PLOT[3]
    under_line = int((fraction - levels.bottom) / (1 - levels.bottom) * levels.codes.shape[0])
    assert under_line == np.argmax(levels.codes.max(axis=1))
    assert levels.floor_db + levels.codes.max() * levels.step_db == pytest.approx(peak, abs=0.01)
    assert levels.floor_db == pytest.approx(peak - 80, abs=0.01)  # to_db's floor


def test_cells_without_a_value_get_the_no_data_code():
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(tone_burst(), RATE, scale="linear", max_columns=columns, max_rows=rows)
    db, _peak = to_db(spec.power, db_range=80)
    db[: len(db) // 2] = np.nan  # the lower half
    codes = pooled_levels(spec, db).codes
    assert (codes[: len(db) // 2] == NO_DATA).all() and (codes[len(db) // 2 :] != NO_DATA).all()


def test_what_the_browser_sends_becomes_a_view_change():
    box = {"kind": "zoom", "start_s": 1.0, "end_s": 2.5, "fmin_hz": 200, "fmax_hz": 4000}
    assert _change(box) == Zoom(1.0, 2.5, 200.0, 4000.0)
    assert _change({"kind": "reset"}) == Reset()
    assert _change(None) is None
    assert _change({**box, "end_s": 0.5}) is None  # empty range
    assert _change({**box, "fmax_hz": "loud"}) is None
    assert _change({"kind": "zoom", "start_s": 1.0}) is None
    assert _change("zoom") is None


def test_the_harness_runs_and_sends_the_view_to_the_browser():
    app = AppTest.from_file("../support/apps/spectrogram_view_app.py", default_timeout=60).run()
    assert not app.exception
    assert app.markdown[-1].value == "View: 0.000–4.000 s"
    component = app.get("bidi_component")[0].proto
    assert component.component_name == "spectrogram_view"
    data = json.loads(component.json)
    assert data["axes"]["scale"] == "log"
    assert data["axes"]["plot"] == list(PLOT)
    assert data["audio"].endswith(".wav") and data["picture"].endswith(".jpg")
    assert data["levels"]["rows"] == 406


def test_the_harness_draws_every_scale():
    for scale in ("linear", "mel"):
        app = AppTest.from_file("../support/apps/spectrogram_view_app.py", default_timeout=60)
        app.query_params["scale"] = scale
        app.run()
        assert not app.exception
        assert json.loads(app.get("bidi_component")[0].proto.json)["axes"]["scale"] == scale


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_a_zoomed_band_is_drawn_where_its_axes_say(scale):
    """A band (a box dragged on the picture) is computed for itself; render_spectrogram and
    view_axes agree on where its frequencies are."""
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(tone_burst(), RATE, STFTParams(2048), scale=scale, max_columns=columns,
                       max_rows=rows, fmin_hz=600.0, fmax_hz=1500.0)  # fmt: skip
    db, peak = to_db(spec.power, db_range=80)
    picture = render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak, cmap="gray_r")
    darkness = 255 - np.asarray(Image.open(io.BytesIO(picture)).convert("L"), dtype=float)
    view = view_axes(spec)
    assert (view.fmin_hz, view.fmax_hz) == pytest.approx((600.0, 1500.0))
    left, top, _width, height = view.plot
    column = darkness[top : top + height, round(float(view.x_of(2.0)))]
    tone_row = top + np.flatnonzero(column >= column.max() - 1).mean()
    assert tone_row == pytest.approx(float(view.y_of(1000.0)), abs=6)  # a bin is 27 px here
    # The axis says so too: a tick (1 kHz is one on every scale here) where 1 kHz is.
    ticks = np.flatnonzero(darkness[top - 1 : top + height + 2, left - 3] > 128) + top - 1
    assert np.abs(ticks - float(view.y_of(1000.0))).min() <= 1.5
    levels = pooled_levels(spec, db)
    fraction = (BOTTOM - view.y_of(1000.0)) / PLOT[3]
    under_line = int((fraction - levels.bottom) / (1 - levels.bottom) * levels.codes.shape[0])
    loudest = np.flatnonzero(levels.codes.max(axis=1) == levels.codes.max())
    assert loudest.min() - 1 <= under_line <= loudest.max() + 1


def test_a_band_is_computed_at_the_ffts_resolution_not_enlarged():
    whole = spectrogram(tone_burst(), RATE, STFTParams(2048), scale="linear", max_rows=406)
    band = spectrogram(tone_burst(), RATE, STFTParams(2048), scale="linear", max_rows=406,
                       fmin_hz=900.0, fmax_hz=1100.0)  # fmt: skip
    bin_hz = RATE / 2048
    assert np.diff(whole.freqs).mean() > 2 * bin_hz  # 1025 bins pooled into 406 rows
    assert len(band.freqs) == round(200 / bin_hz)  # a row per bin of the band
    assert 900 < band.freqs[0] < band.freqs[-1] < 1100
    loudest = band.freqs[np.nanargmax(band.power[:, band.power.shape[1] // 2])]
    assert loudest == pytest.approx(1000.0, abs=bin_hz)


def test_a_band_is_cut_to_what_the_scale_shows():
    log = spectrogram(tone_burst(), RATE, scale="log", fmin_hz=5.0, fmax_hz=50_000.0)
    assert (log.fmin, log.fmax) == (20.0, RATE / 2)
    with pytest.raises(InputError, match="outside what the log scale shows"):
        spectrogram(tone_burst(), RATE, scale="log", fmin_hz=2.0, fmax_hz=15.0)
    with pytest.raises(InputError, match="top above its bottom"):
        spectrogram(tone_burst(), RATE, scale="mel", fmin_hz=800.0, fmax_hz=700.0)
