"""The interactive spectrogram's Python side: what it sends the browser (axes, levels) and what
comes back. The pixel ↔ time/frequency mapping itself: tests/analysis/audio/test_axes.py."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from analysis.audio.axes import plot_axes
from analysis.audio.mel import hz_to_mel
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.audio.stft import STFTParams
from analysis.errors import InputError
from analysis.figures import SPECTROGRAM_LAYOUT
from tests.analysis.audio.test_axes import tone_burst
from tests.app.test_audio_page import send_view_change
from ui.spectrogram_view import NO_DATA, Reset, Zoom, _change, browser_axes, pooled_levels

RATE = 22050
PLOT = (84, 16, 996, 406)  # SPECTROGRAM_LAYOUT's plot area: left, top, width, height
BOTTOM = PLOT[1] + PLOT[3]


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
    view = plot_axes(spec)
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


@pytest.mark.parametrize("scale", ["linear", "log", "mel"])
def test_the_browser_gets_each_pixel_rows_frequency_to_interpolate_in(scale):
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    spec = spectrogram(tone_burst(), RATE, scale=scale, max_columns=columns, max_rows=rows)
    view = plot_axes(spec)
    sent = json.loads(json.dumps(browser_axes(view)))  # as the browser receives it
    assert sent.keys() == {"start_s", "end_s", "plot", "image", "row_edges_hz"}
    edges = np.array(sent["row_edges_hz"])
    assert len(edges) == PLOT[3] + 1  # one per pixel row edge, bottom to top
    assert (edges[0], edges[-1]) == pytest.approx((view.fmin_hz, view.fmax_hz))
    np.testing.assert_array_equal(edges, view.freq_at(BOTTOM - np.arange(PLOT[3] + 1)))
    # Between two edges view.js draws a straight line: within a hundredth of a pixel.
    y = np.linspace(PLOT[1], BOTTOM, 4001)
    interpolated = np.interp(BOTTOM - y, np.arange(PLOT[3] + 1), edges)
    np.testing.assert_allclose(view.y_of(np.maximum(interpolated, 1e-9)), y, atol=0.01)


def _view_without_a_callback():
    import streamlit as st

    from analysis.audio.axes import PlotAxes
    from ui.spectrogram_view import spectrogram_view

    axes = PlotAxes(0.0, 4.0, 20.0, 11025.0, "log", (84, 16, 996, 406), (1200, 480))
    st.write(f"Returned: {spectrogram_view(b'', 'image/jpeg', None, axes, key='view')!r}")


def test_without_a_callback_the_change_is_returned_in_the_run_it_causes():
    app = AppTest.from_function(_view_without_a_callback).run()
    assert app.markdown[0].value == "Returned: None"
    send_view_change(app, {"kind": "reset"})
    assert app.markdown[0].value == "Returned: Reset()"
    app.run()  # the next run, caused by something else
    assert app.markdown[0].value == "Returned: None"


def test_the_harness_runs_and_sends_the_view_to_the_browser():
    app = AppTest.from_file("../support/apps/spectrogram_view_app.py", default_timeout=60).run()
    assert not app.exception
    assert "View: 0.000–4.000 s" in [markdown.value for markdown in app.markdown]
    component = app.get("bidi_component")[0].proto
    assert component.component_name == "spectrogram_view"
    data = json.loads(component.json)
    assert data["axes"]["plot"] == list(PLOT)
    ratios = np.diff(np.log(data["axes"]["row_edges_hz"]))  # the log scale: even ratios
    np.testing.assert_allclose(ratios, ratios[0])
    assert data["audio"].endswith(".wav") and data["picture"].endswith(".jpg")
    assert data["levels"]["rows"] == 406


@pytest.mark.parametrize(("scale", "to_axis"), [("linear", np.asarray), ("mel", hz_to_mel)])
def test_the_harness_draws_every_scale(scale, to_axis):
    app = AppTest.from_file("../support/apps/spectrogram_view_app.py", default_timeout=60)
    app.query_params["scale"] = scale
    app.run()
    assert not app.exception
    edges = json.loads(app.get("bidi_component")[0].proto.json)["axes"]["row_edges_hz"]
    steps = np.diff(to_axis(np.array(edges)))  # even steps in the scale's units
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6)


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
    view = plot_axes(spec)
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
