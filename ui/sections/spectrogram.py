"""The Audio page's spectrogram: the time range slider, and the section under it with its
controls, the interactive picture, the waveform and the downloads.

``app_pages/audio.py`` calls :func:`time_range` and then :func:`spectrogram_section`. A box
dragged on the picture (or its reset) sets the time range and the frequency band, and the
page runs once to draw them (:func:`_ask_for_view`). Playing, seeking and the playhead stay in
the browser: they run nothing here.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from analysis.audio.axes import PlotAxes, plot_axes
from analysis.audio.decode import AudioClip
from analysis.audio.render import render_spectrogram
from analysis.audio.spectrogram import Cancelled, Spectrogram, is_silent, spectrogram, to_db
from analysis.audio.stft import STFTParams, view_hop
from analysis.errors import InputError
from analysis.figures import PHONE_SPECTROGRAM_LAYOUT, SPECTROGRAM_LAYOUT
from ui import device, internals
from ui.memory import per_sound
from ui.sections.sound import KEPT_FOR, show_unexpected
from ui.sections.spectrogram_controls import REFERENCES, Settings, spectrogram_controls
from ui.sections.spectrogram_downloads import Shown, show_downloads
from ui.sections.spectrogram_layers import view_layers
from ui.spectrogram_view import Reset, ViewChange, pooled_levels, spectrogram_view
from ui.state import forget, preset, remember

LOG = logging.getLogger(__name__)
# How many views were asked for on the spectrogram: each gets a time range slider of its own.
VIEWS_ASKED = "_audio_views_asked"


# A stereo file's mix and both channels, emptied with its decoded clip (per_sound): a channel
# is a view of the clip, and would keep it alive after decode() let it go.
@per_sound(max_entries=3)
def analysed_signal(file_key: str, _clip: AudioClip, channel: int | None) -> np.ndarray:
    """The mono signal the pictures show: the channel mix (None) or one channel.

    A channel is a view of the clip (no memory), so a stereo file's mix and both channels
    stay here together: going back to the mix does not recompute it.
    """
    return _clip.mono() if channel is None else _clip.channel(channel)


@st.cache_data(max_entries=24, ttl=KEPT_FOR, show_spinner=False)
def compute_spectrogram(
    file_key: str,
    _signal: np.ndarray,
    sample_rate: int,
    channel: int | None,
    start_s: float,
    end_s: float,
    n_fft: int,
    hop_length: int | None,
    win_length: int | None,
    window: str,
    scale: str,
    n_mels: int,
    band: tuple[float, float] | None,
    phone: bool,
    _cancelled: Callable[[], bool] | None = None,
) -> Spectrogram:
    """The spectrogram of a frequency ``band`` (Hz; None: all) pooled to the figure's plot
    area, the phone's or the desktop's (``_signal`` is named by its key).

    Raises Cancelled, and caches nothing, when ``_cancelled()`` says a newer run waits.
    """
    columns, rows = (PHONE_SPECTROGRAM_LAYOUT if phone else SPECTROGRAM_LAYOUT).plot_size
    fmin_hz, fmax_hz = (None, None) if band is None else band
    return spectrogram(
        _signal,
        sample_rate,
        STFTParams(n_fft, hop_length, win_length, window),
        scale=scale,
        n_mels=n_mels,
        start_s=start_s,
        end_s=end_s,
        max_columns=columns,
        max_rows=rows,
        cancelled=_cancelled,
        fmin_hz=fmin_hz,
        fmax_hz=fmax_hz,
    )


def _band_key(file_key: str) -> str:
    """Session key of the frequency band (Hz) a box chose on the file's spectrogram."""
    return f"audio_band_{file_key}"


def _slider(clip: AudioClip, file_key: str) -> tuple[str, float, float]:
    """The time range slider's key, step and end, seconds.

    A new file gets a fresh range through the key, and so does each view asked for on the
    spectrogram. That protection is still needed: a run the browser asked for before the new
    range reached it (the speech section's progress poll, on its timer) carries the old
    range, which would otherwise come back under the same slider
    (tests/app/test_audio_page.py::test_a_zoom_survives_a_run_the_browser_asked_for_before_it).
    """
    step = max(round(clip.duration / 2000, 3), 0.001)
    end = max(round(clip.duration, 3), step)  # a clip under a millisecond still gets a range
    return f"audio_time_range_{file_key}_{st.session_state.get(VIEWS_ASKED, 0)}", step, end


def time_range(clip: AudioClip, file_key: str) -> tuple[float, float, str, bool]:
    """Draw the time range slider, which drives everything under it (pictures, playback,
    tags, speech). Returns the range (s), the slider's key and whether it is the whole file.
    """
    key, step, slider_end = _slider(clip, file_key)
    start_s, end_s = st.slider(
        "Time range (s)",
        min_value=0.0,
        max_value=slider_end,
        step=step,
        format="%.3f" if clip.duration < 10 else "%.1f",
        value=(0.0, slider_end),  # its own default too (see ui.state.remember)
        key=remember(key, (0.0, slider_end)),
    )
    if end_s <= start_s:  # both handles together: keep the step of sound before them
        start_s, end_s = (end_s - step, end_s) if end_s >= step else (0.0, step)
    end_s = min(end_s, clip.duration)
    return start_s, end_s, key, start_s <= 0 and end_s >= min(slider_end, clip.duration)


def _ask_for_view(change: ViewChange, shown: PlotAxes, clip: AudioClip, file_key: str) -> None:
    """The spectrogram's callback: a box sets the time range and band, a reset the whole file.

    ``shown`` is the view the box was drawn on. The time range slider is drawn outside the
    section's fragment, so the whole page must run: ``st.rerun()`` in a callback makes the
    interaction that one full run (no fragment run before it).
    """
    band_key = _band_key(file_key)
    preset(VIEWS_ASKED, st.session_state.get(VIEWS_ASKED, 0) + 1)  # kept in the link too
    range_key, _step, slider_end = _slider(clip, file_key)  # a new slider's
    if isinstance(change, Reset):
        st.session_state[range_key] = (0.0, slider_end)
        forget(band_key)
    else:
        start, end = max(round(change.start_s, 3), 0.0), min(round(change.end_s, 3), slider_end)
        st.session_state[range_key] = (start, max(end, start))
        # A box as tall as the picture, or a wheel zoom, keeps the band shown.
        if not (
            math.isclose(change.fmin_hz, shown.fmin_hz, rel_tol=1e-6, abs_tol=1e-6)
            and math.isclose(change.fmax_hz, shown.fmax_hz, rel_tol=1e-6)
        ):
            preset(band_key, (change.fmin_hz, change.fmax_hz))
    st.rerun()


@st.fragment
def spectrogram_section(
    clip: AudioClip,
    file_key: str,
    name: str,
    start_s: float,
    end_s: float,
    sound: tuple[bytes, str, float],
) -> None:
    """Controls and pictures; moving a control reruns only this part of the page.

    ``sound``: what the picture plays (bytes, type, time in the file of its first sample, s).
    """
    try:
        _show(clip, file_key, name, start_s, end_s, sound)
    except InputError as error:
        st.error(str(error))
    except Exception as error:
        show_unexpected(error)


def _show(
    clip: AudioClip,
    file_key: str,
    name: str,
    start_s: float,
    end_s: float,
    sound: tuple[bytes, str, float],
) -> None:
    settings = spectrogram_controls(clip)
    # The same slots every run, whichever notes appear in them: an element that moves to
    # another place would stay there greyed from the previous run while the page below runs.
    above, view, below, downloads = (st.container() for _ in range(4))
    n_fft = settings.n_fft
    if settings.win != "= FFT size" and int(settings.win) > n_fft:
        above.caption(f"The window length is capped at the FFT size ({n_fft} samples).")
    signal = analysed_signal(file_key, clip, settings.channel)
    # Larger text and fewer ticks on a phone, where the picture is shown ~360 px wide.
    phone = device.is_phone()
    layout = PHONE_SPECTROGRAM_LAYOUT if phone else SPECTROGRAM_LAYOUT
    with view, st.spinner("Computing the spectrogram…"):
        computed = _in_db(clip, file_key, signal, start_s, end_s, settings, phone)
        if computed is None:
            return
        spec, db, options = computed
        picture = render_spectrogram(spec, db, image_format="jpeg", layout=layout, **options)
    shown = Shown(spec, db, options, settings, name, signal, clip.sample_rate, start_s, end_s)
    axes = plot_axes(spec, layout)
    try:
        layers = view_layers(
            file_key,
            signal,
            clip.sample_rate,
            settings.channel,
            (start_s, end_s),
            layout.plot_size[0],
        )
    except Exception:  # the picture still works without its layers
        LOG.exception("spectrogram layers")
        layers = None
        above.caption("The layers over and under the spectrogram could not be drawn this time.")
    audio, audio_mime, audio_start_s = sound
    with view:
        spectrogram_view(
            picture,
            "image/jpeg",
            audio,
            axes,
            key=f"audio_spectrogram_{file_key}",
            audio_mime=audio_mime,
            audio_start_s=audio_start_s,
            levels=pooled_levels(spec, db),
            layers=layers,
            on_change=functools.partial(_ask_for_view, shown=axes, clip=clip, file_key=file_key),
        )
    zoomed = st.session_state.get(_band_key(file_key)) is not None
    shown_band = (axes.fmin_hz, axes.fmax_hz) if zoomed else None
    below.caption(
        spectrogram_caption(
            spec, clip.sample_rate, end_s - start_s, shown_band, auto_hop=settings.hop == "auto"
        )
    )
    if is_silent(spec.power):
        below.info("This selection is silent (nothing above −120 dB), so the spectrogram is flat.")
    if (end_s - start_s) * clip.sample_rate < n_fft:
        below.caption(
            f"The selection is shorter than the FFT size ({n_fft} samples): each frame reaches "
            "past it, into the sound around it or zero padding beyond the file's ends."
        )
    with downloads:
        show_downloads(shown)


def _in_db(
    clip: AudioClip,
    file_key: str,
    signal: np.ndarray,
    start_s: float,
    end_s: float,
    settings: Settings,
    phone: bool,
) -> tuple[Spectrogram, np.ndarray, dict[str, Any]] | None:
    """The spectrogram, its dB and the picture's colour options; or None, having said why,
    when a newer change waits or the zoomed band cannot be shown on this scale."""
    band_key = _band_key(file_key)
    band = st.session_state.get(band_key)  # a box's frequency band, Hz; None: all of it
    s = settings
    hop = s.hop_length
    if hop is None:  # auto: a frame for every pixel column of this view (sharp zooms)
        columns = (PHONE_SPECTROGRAM_LAYOUT if phone else SPECTROGRAM_LAYOUT).plot_size[0]
        samples = round((end_s - start_s) * clip.sample_rate)
        hop = view_hop(s.win_length or s.n_fft, samples, columns)
    try:
        spec = compute_spectrogram(
            file_key,
            signal,
            clip.sample_rate,
            s.channel,
            start_s,
            end_s,
            s.n_fft,
            hop,
            s.win_length,
            s.window,
            s.scale,
            s.n_mels,
            band,
            phone,
            _cancelled=internals.newer_run_waiting,
        )
    except Cancelled:  # a newer change is queued: stop here so that it starts at once
        st.caption("Settings changed: drawing the newer ones…")
        return None
    except InputError as error:
        if band is None:
            raise
        # E.g. a band below 20 Hz, zoomed on the linear scale, then the log scale chosen.
        st.error(str(error))
        st.button("Show all frequencies", on_click=forget, args=(band_key,))
        return None
    db, peak_db = to_db(spec.power, db_range=s.db_range, ref=REFERENCES[s.reference])
    options = dict(db_floor=peak_db - s.db_range, db_top=peak_db, db_label=s.db_label, cmap=s.cmap)
    return spec, db, options


def format_hz(hz: float) -> str:
    """A frequency for a caption: "200 Hz", "4 kHz", "2.56 kHz"."""
    return f"{hz:.3g} Hz" if hz < 1000 else f"{hz / 1000:.3g} kHz"


def spectrogram_caption(
    spec: Spectrogram,
    sample_rate: int,
    seconds: float,
    band: tuple[float, float] | None = None,
    *,
    auto_hop: bool = False,
) -> str:
    """What the picture shows and how it was computed; ``band``: the zoomed band (Hz);
    ``auto_hop``: the hop was chosen for the view (:func:`analysis.audio.stft.view_hop`)."""
    p = spec.params
    hop_ms = 1000 * p.hop_length / sample_rate
    rows, columns = spec.power.shape
    overlap = max(0.0, 1 - p.hop_length / p.win_length)
    fitted = ""
    if auto_hop and p.hop_length < p.win_length // 4:  # a zoom: sharp, not stretched
        fitted = " fitted to this view: a frame per column"
        if p.hop_length == 1:
            fitted = " fitted to this view: every sample, the signal's own resolution"
    caption = (
        f"{spec.frames:,} frames of {p.n_fft} samples ({sample_rate / p.n_fft:.1f} Hz per bin, "
        f"{p.window} window of {p.win_length}, hop {p.hop_length} = {hop_ms:.2g} ms{fitted}, "
        f"{overlap:.0%} overlap), shown as {columns} columns × {rows} rows over {seconds:.2f} s"
    )
    if band is not None:
        caption += f", showing {format_hz(band[0])} – {format_hz(band[1])}"
    if spec.frame_step > 1:  # the work was bounded: say so, and how to see every frame
        caption += (
            f". Long range: 1 frame in {spec.frame_step} computed for the picture; zoom in or "
            "export for every frame."
        )
    return caption
