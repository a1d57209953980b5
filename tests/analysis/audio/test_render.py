"""Pictures of spectrograms and waveforms: phone layout, export title, cells without data,
kept figures."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from analysis.audio import render
from analysis.audio.render import (
    no_data_color,
    render_spectrogram,
    render_waveform,
    spectrogram_title,
)
from analysis.audio.spectrogram import spectrogram, to_db
from analysis.audio.stft import STFTParams
from analysis.figures import (
    PHONE_SPECTROGRAM_LAYOUT,
    PHONE_WAVEFORM_LAYOUT,
    SPECTROGRAM_LAYOUT,
    WAVEFORM_LAYOUT,
    Layout,
)

SR = 16_000
PHONE_IMAGE_CSS_PX = 360  # a 390 px wide phone screen less the page's side padding


def chirp(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * (100 + 2000 * t) * t)).astype(np.float32)


def image(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGB")).astype(int)


def rendered(layout: Layout = SPECTROGRAM_LAYOUT, nan_rows: int = 0, **options) -> bytes:
    columns, rows = layout.plot_size
    grid = {"max_columns": columns, "max_rows": rows}
    spec = spectrogram(chirp(), SR, STFTParams(512), scale="log", **grid)
    db, peak = to_db(spec.power, db_range=80)
    db[:nan_rows] = np.nan
    return render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak, layout=layout, **options)


def smallest_text_css_px(layout: Layout, shown_css_px: float) -> float:
    """Height of the smallest font in the picture, in CSS px, shown ``shown_css_px`` wide."""
    smallest_pt = min(layout.tick_pt, layout.label_pt, layout.name_pt)
    return smallest_pt * 100 / 72 * shown_css_px / layout.width


# --- phone layout ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", [PHONE_SPECTROGRAM_LAYOUT, PHONE_WAVEFORM_LAYOUT])
def test_phone_text_is_at_least_10_css_px_at_the_phones_width(layout):
    assert smallest_text_css_px(layout, PHONE_IMAGE_CSS_PX) >= 10


def test_the_desktop_layout_on_a_phone_had_5_px_text():
    assert smallest_text_css_px(SPECTROGRAM_LAYOUT, PHONE_IMAGE_CSS_PX) < 5  # the issue


def test_phone_pictures_have_the_phone_size_and_share_the_time_axis():
    spectrum = image(rendered(PHONE_SPECTROGRAM_LAYOUT))
    wave = image(render_waveform(chirp(), SR, layout=PHONE_WAVEFORM_LAYOUT))
    assert spectrum.shape[:2] == (PHONE_SPECTROGRAM_LAYOUT.height, PHONE_SPECTROGRAM_LAYOUT.width)
    assert wave.shape[1] == spectrum.shape[1]
    assert PHONE_WAVEFORM_LAYOUT.left == PHONE_SPECTROGRAM_LAYOUT.left
    assert PHONE_WAVEFORM_LAYOUT.right == PHONE_SPECTROGRAM_LAYOUT.right
    assert WAVEFORM_LAYOUT.width == SPECTROGRAM_LAYOUT.width


# --- the title of an exported picture ---------------------------------------------------


def test_title_names_the_file_and_the_settings():
    spec = spectrogram(chirp(), SR, STFTParams(2048, 512, window="hann"), scale="log")
    assert spectrogram_title("speech.wav", spec, 80) == (
        "speech.wav — FFT 2048, hop 512, hann window, log scale, 80 dB range"
    )
    spec = spectrogram(chirp(), SR, STFTParams(1024, 128, 512, "hamming"), scale="mel")
    assert spectrogram_title("a.flac", spec, 60.0) == (
        "a.flac — FFT 1024, hop 128, hamming window of 512, mel scale, 60 dB range"
    )
    long_name = "x" * 200 + ".wav"
    title = spectrogram_title(long_name, spec, 60)
    assert len(title) < 140 and title.endswith("60 dB range")
    assert "…" in title and "xxx.wav — FFT 1024" in title


def test_the_titled_png_has_a_line_of_text_above_the_same_picture():
    plain = image(rendered())
    titled = image(rendered(title="speech.wav — FFT 512, hop 128, hann window, log scale"))
    extra = titled.shape[0] - plain.shape[0]
    assert extra > 20
    assert titled.shape[1] == plain.shape[1]
    strip = titled[:extra]
    assert (strip.sum(axis=2) < 200).sum() > 200  # dark text pixels in the title strip
    assert (plain[:8] == 255).all()  # nothing above the untitled plot
    # Below the title, the same picture (the plot is untouched by the title).
    assert np.abs(titled[extra:] - plain).mean() < 1


# --- cells without data ------------------------------------------------------------------


def hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def solid_blocks(picture: np.ndarray, color: str, size: int = 10) -> int:
    """How many ``size`` × ``size`` squares of ``picture`` are all ``color`` (not text edges)."""
    match = (np.abs(picture - hex_rgb(color)).max(axis=2) <= 1).astype(int)
    sums = np.lib.stride_tricks.sliding_window_view(match, (size, size)).sum(axis=(2, 3))
    return int((sums == size * size).sum())


@pytest.mark.parametrize("cmap", ["magma", "gray_r", "cividis", "turbo"])
def test_nan_rows_are_drawn_in_the_no_data_colour_with_a_key(cmap):
    layout = SPECTROGRAM_LAYOUT
    picture = image(rendered(nan_rows=60, cmap=cmap))
    grey = hex_rgb(no_data_color(cmap))
    # Inside the plot, a few pixels above its bottom edge: the lowest rows are NaN.
    cell = picture[layout.height - layout.bottom - 5, layout.left + 50 : layout.left + 60]
    assert (np.abs(cell - grey) <= 1).all()
    # The key under the colour bar shows the same colour.
    assert solid_blocks(picture[:, layout.width - layout.right :], no_data_color(cmap)) > 0


def test_without_nan_there_is_no_no_data_key():
    layout = SPECTROGRAM_LAYOUT
    picture = image(rendered(nan_rows=0))
    assert solid_blocks(picture[:, layout.width - layout.right :], no_data_color("magma")) == 0


def test_the_no_data_colour_is_not_in_its_colour_map():
    import matplotlib

    for cmap in ("magma", "inferno", "viridis", "plasma", "cividis", "gray_r", "turbo"):
        colors = matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255
        nearest = np.abs(colors - hex_rgb(no_data_color(cmap))).max(axis=1).min()
        assert nearest > 30, cmap


def test_a_grid_larger_than_the_plot_is_drawn_filtered_not_decimated():
    # A phone picture of a grid made for the desktop size: one loud column of many must
    # still show, not fall between the sampled ones.
    columns, rows = SPECTROGRAM_LAYOUT.plot_size
    silence = np.zeros(SR * 20, np.float32)
    spec = spectrogram(silence, SR, STFTParams(512), max_columns=columns, max_rows=rows)
    db = np.full(spec.power.shape, -100.0, np.float32)
    assert db.shape[1] > 2 * PHONE_SPECTROGRAM_LAYOUT.plot_size[0]
    db[:, 290] = 0.0  # one column that nearest-neighbour sampling skips at this ratio
    layout = PHONE_SPECTROGRAM_LAYOUT
    picture = image(render_spectrogram(spec, db, db_floor=-100, db_top=0, layout=layout))
    middle_row = picture[layout.top + 100, layout.left : layout.width - layout.right]
    assert middle_row.sum(axis=1).max() > 100  # a bright stripe, where black is about 4


# --- kept figures ------------------------------------------------------------------------


def _fresh(spec, db, **options) -> bytes:
    render._kept.clear()
    return render_spectrogram(spec, db, **options)


@pytest.mark.parametrize("scale", ["log", "linear", "mel"])
def test_a_kept_figure_draws_the_same_pixels_as_a_new_one(scale):
    """A new FFT size and loudness range on the same axes reuse the drawn figure (its axes
    and ticks): the picture and the colour bar are replaced, to exactly the same pixels."""
    grid = dict(zip(("max_columns", "max_rows"), SPECTROGRAM_LAYOUT.plot_size, strict=True))
    first = spectrogram(chirp(), SR, STFTParams(2048, 16), scale=scale, **grid)
    second = spectrogram(chirp(), SR, STFTParams(4096, 16), scale=scale, **grid)
    db1, peak1 = to_db(first.power, db_range=80)
    db2, peak2 = to_db(second.power, db_range=45)
    options = dict(db_floor=peak2 - 45, db_top=peak2, cmap="viridis")
    render._kept.clear()
    render_spectrogram(first, db1, db_floor=peak1 - 80, db_top=peak1, cmap="viridis")
    kept = render._kept.copy()
    reused = render_spectrogram(second, db2, **options)
    assert list(render._kept.values()) == list(kept.values())  # no figure drawn anew
    assert reused == _fresh(second, db2, **options)


@pytest.mark.parametrize(
    ("scale", "n_fft", "layout"),
    [
        ("log", 512, SPECTROGRAM_LAYOUT),
        ("linear", 256, SPECTROGRAM_LAYOUT),  # the lowest row half below the plot
        ("mel", 4096, SPECTROGRAM_LAYOUT),  # 94 columns widened to 996 pixels
        ("mel", 512, PHONE_SPECTROGRAM_LAYOUT),  # 128 rows over 504 pixels
    ],
)
def test_the_colour_table_draws_the_pixels_matplotlib_draws(monkeypatch, scale, n_fft, layout):
    """A grid no larger than the plot is coloured through the colour map's table, each pixel
    from the cell under its centre: the picture imshow draws, but for pixels whose centre
    is on a cell's edge, where either cell is right (a few rows and columns at the phone's
    uneven ratios)."""
    columns, rows = layout.plot_size
    spec = spectrogram(
        chirp(), SR, STFTParams(n_fft), scale=scale, max_columns=columns, max_rows=rows
    )
    db, peak = to_db(spec.power, db_range=80)
    db[:3] = np.nan  # no data, in its own colour
    options = dict(db_floor=peak - 60, db_top=peak, layout=layout, cmap="viridis")
    table = image(_fresh(spec, db, **options))
    assert next(iter(render._kept.values())).pixels is not None
    monkeypatch.setattr(render, "_pixels", lambda *_: None)
    drawn = image(_fresh(spec, db, **options))
    differs = np.abs(table - drawn).max(axis=2) > 2  # beyond rounding in the colour index
    assert differs.mean() < (0.01 if layout is PHONE_SPECTROGRAM_LAYOUT else 0.0001)


def test_figures_are_kept_for_a_few_axes_only():
    render._kept.clear()
    for seconds in np.linspace(1.0, 2.0, render.KEPT_FIGURES + 3):
        spec = spectrogram(chirp(seconds), SR, STFTParams(512), scale="log")
        db, peak = to_db(spec.power, db_range=80)
        render_spectrogram(spec, db, db_floor=peak - 80, db_top=peak, image_format="jpeg")
    assert len(render._kept) == render.KEPT_FIGURES


def test_two_threads_drawing_on_one_kept_figure_each_get_their_own_picture():
    grid = dict(zip(("max_columns", "max_rows"), SPECTROGRAM_LAYOUT.plot_size, strict=True))
    spec = spectrogram(chirp(), SR, STFTParams(1024), scale="log", **grid)
    loud = np.full(spec.power.shape, 0.0, np.float32)
    quiet = np.full(spec.power.shape, -80.0, np.float32)
    options = dict(db_floor=-80.0, db_top=0.0)
    expected = [_fresh(spec, db, **options) for db in (loud, quiet)]
    assert expected[0] != expected[1]

    def draw(db):
        return render_spectrogram(spec, db, **options)

    with ThreadPoolExecutor(2) as pool:
        drawn = list(pool.map(draw, [loud, quiet] * 6))
    assert drawn == expected * 6
