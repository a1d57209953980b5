"""The spectrogram section's downloads: the picture as PNG, every frame of the selection (CSV,
NPZ) and the picture's grid (CSV). Each is computed on click, never during a rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from analysis.audio.exports import (
    STFTFrames,
    export_limit_s,
    frames_csv,
    frames_npz,
    grid_csv,
    stft_frames,
)
from analysis.audio.render import render_spectrogram, spectrogram_title
from analysis.audio.spectrogram import Spectrogram, to_db
from analysis.filenames import safe_stem
from ui.sections.spectrogram_controls import REFERENCES, Settings

# Every-frame exports hold at most this many values (frames × bins): ~60 MB of CSV.
MAX_EXPORT_VALUES = 8_000_000


@dataclass(frozen=True)
class Shown:
    """What the section shows: the picture's grid and levels, how it was drawn, and of what."""

    spec: Spectrogram
    db: np.ndarray  # spec.power in dB, as drawn
    options: dict[str, Any]  # render_spectrogram's colour options
    settings: Settings
    name: str  # the file's
    signal: np.ndarray  # the mono signal the picture is of
    sample_rate: int
    start_s: float
    end_s: float


def show_downloads(shown: Shown) -> None:
    """A row of four download buttons, the same row every run (so that Streamlit never leaves
    the previous run's row greyed beside the new one while the page below runs): every frame
    is offered when the selection fits the export's cap, else its buttons are greyed and a
    caption under the row says how short a selection can be exported."""
    spec, settings = shown.spec, shown.settings
    stem = safe_stem(shown.name, default="audio")
    p = spec.params
    exportable = spec.frames * (p.n_fft // 2 + 1) <= MAX_EXPORT_VALUES
    # Buttons as wide as their labels, wrapping: four equal columns cut two of them short on
    # a 1024 px window.
    row = st.container(horizontal=True, vertical_alignment="center")
    title = spectrogram_title(shown.name, spec, settings.db_range)
    row.download_button(
        "Spectrogram (PNG)",
        lambda: render_spectrogram(
            spec, shown.db, image_format="png", title=title, **shown.options
        ),
        f"{stem}-spectrogram.png",
        "image/png",
        on_click="ignore",
    )
    _every_frame(row, shown, stem, exportable)
    row.download_button(
        "Picture grid (CSV)",
        lambda: grid_csv(spec, shown.db),
        f"{stem}-spectrogram-grid-db.csv",
        "text/csv",
        on_click="ignore",
        help=f"The values the picture shows, in {settings.db_label}: one column per pixel "
        "column, one row per pixel row (frames and bins pooled by maximum).",
    )
    if not exportable:  # last in the row's slot: its coming and going moves nothing
        limit = export_limit_s(p, shown.sample_rate, MAX_EXPORT_VALUES)
        st.caption(f"Select at most {limit:g} s to export every frame at these settings.")


def _every_frame(row, shown: Shown, stem: str, exportable: bool) -> None:
    """Every frame and bin of the selection as CSV and as NPZ (greyed when not ``exportable``)."""
    settings = shown.settings
    frames_db = _frames_db(shown)
    every_frame = f"Every frame and FFT bin of the selection, in {settings.db_label}"
    row.download_button(
        "Every frame (CSV)",
        lambda: frames_csv(*frames_db()),
        f"{stem}-stft-db.csv",
        "text/csv",
        on_click="ignore",
        disabled=not exportable,
        help=f"{every_frame}: one row per frame, its time in s, then one column per bin.",
    )
    channel = settings.channel
    npz_settings = dict(
        db_reference=settings.reference,
        start_s=shown.start_s,
        end_s=shown.end_s,
        channel="mix of all channels" if channel is None else f"channel {channel + 1}",
        source=shown.name,
    )
    row.download_button(
        "Every frame (NPZ)",
        lambda: frames_npz(*frames_db(), **npz_settings),
        f"{stem}-stft-db.npz",
        "application/octet-stream",
        on_click="ignore",
        disabled=not exportable,
        help=f"{every_frame}, for NumPy: db, times_s, freqs_hz and the settings.",
    )


def _frames_db(shown: Shown) -> Callable[[], tuple[STFTFrames, np.ndarray]]:
    """Computes, when called, every frame of the selection and its dB."""
    ref = REFERENCES[shown.settings.reference]

    def frames_db() -> tuple[STFTFrames, np.ndarray]:
        table = stft_frames(
            shown.signal,
            shown.sample_rate,
            shown.spec.params,
            start_s=shown.start_s,
            end_s=shown.end_s,
            max_values=MAX_EXPORT_VALUES,
        )
        return table, to_db(table.power, db_range=None, ref=ref)[0]

    return frames_db
