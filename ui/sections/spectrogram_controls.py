"""The spectrogram section's controls: FFT size, scale, loudness range, colours, channel, and
the advanced STFT settings. Each remembers its value across pages (:func:`ui.state.remember`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from analysis.audio.decode import AudioClip
from analysis.audio.render import COLORMAPS
from analysis.audio.spectrogram import SCALES
from analysis.audio.stft import WINDOWS
from ui import device
from ui.state import remember

FFT_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384]
HOP_CHOICES = ["auto", 32, 64, 128, 256, 512, 1024, 2048, 4096]
WIN_CHOICES = ["= FFT size", 128, 256, 512, 1024, 2048, 4096, 8192]
SCALE_LABELS = {"log": "Log", "linear": "Linear", "mel": "Mel"}
REFERENCES = {"full scale": 1.0, "peak": "peak"}


@dataclass(frozen=True)
class Settings:
    """What the controls are set to."""

    n_fft: int
    scale: str
    db_range: int  # dB below the top that still gets a colour
    cmap: str
    channel: int | None  # None: the mix of all channels
    hop: int | str  # samples, or "auto"
    win: int | str  # samples, or "= FFT size"
    window: str
    n_mels: int
    reference: str  # a key of REFERENCES

    @property
    def hop_length(self) -> int | None:
        return None if self.hop == "auto" else int(self.hop)

    @property
    def win_length(self) -> int | None:
        """The window length asked for, at most the FFT size; None: the FFT size."""
        return None if self.win == "= FFT size" else min(int(self.win), self.n_fft)

    @property
    def db_label(self) -> str:
        """What 0 dB means, for the colour bar and the exports."""
        return "dB re full scale" if REFERENCES[self.reference] == 1.0 else "dB re peak"


def _remembered(key: str, default: Any, options: Sequence | None = None) -> dict[str, Any]:
    """A remembered control's keyword arguments: its key, and ``default`` as its own default
    too (``value=``, or ``index=`` among ``options``), as :func:`ui.state.remember` asks: a
    browser that draws the control before it hears the remembered value (a click during the
    page's first run) shows the control's own default and sends it back."""
    own = {"value": default} if options is None else {"index": list(options).index(default)}
    return {"key": remember(key, default), **own}


def spectrogram_controls(clip: AudioClip) -> Settings:
    """Draw the controls, in a bordered box (on a phone, where its columns stack, folded, so
    that the picture is on the first screen), and return their settings."""
    phone = device.is_phone()
    with st.expander("Spectrogram settings") if phone else st.container(border=True):
        row = st.columns([3, 2, 2, 2])
        n_fft = row[0].select_slider(
            "Frequency detail (FFT size)",
            FFT_SIZES,
            **_remembered("audio_n_fft", 2048),
            help="Samples in each analysis frame. More: finer detail in pitch, blurrier in "
            "time. Fewer: sharp in time, coarse in pitch.",
        )
        scale = row[1].radio(
            "Frequency scale",
            SCALES,
            format_func=SCALE_LABELS.get,
            horizontal=True,
            **_remembered("audio_scale", "log", SCALES),
            help="Log spreads the low notes out, as hearing does; linear is even in Hz; mel "
            "follows perceived pitch.",
        )
        db_range = row[2].slider(
            "Loudness range (dB)",
            20,
            140,
            step=5,
            **_remembered("audio_db_range", 80),
            help="How far below the loudest sound still gets a colour; quieter is drawn dark.",
        )
        cmap = row[3].selectbox(
            "Colours", COLORMAPS, **_remembered("audio_cmap", COLORMAPS[0], COLORMAPS)
        )
        channel = _channel(clip)
        # Expanders do not nest: on a phone the advanced row sits in the folded box.
        with st.container() if phone else st.expander("Advanced"):
            hop, win, window, n_mels, reference = _advanced(scale)
    n_mels = n_mels if scale == "mel" else 128  # other scales ignore it: keep caches warm
    return Settings(n_fft, scale, db_range, cmap, channel, hop, win, window, n_mels, reference)


def _channel(clip: AudioClip) -> int | None:
    """The channel to show (None: their mix), chosen when there are several."""
    if clip.channels == 1:
        return None
    # "mix", not None: a select box shows None as "Choose an option", as if nothing were chosen.
    choices = ["mix", *range(clip.channels)]
    chosen = st.selectbox(
        "Channel",
        choices,
        format_func=lambda c: "mix of all channels" if c == "mix" else f"channel {c + 1}",
        **_remembered(f"audio_channel_{clip.channels}", "mix", choices),
    )
    return None if chosen == "mix" else chosen


def _advanced(scale: str) -> tuple[int | str, int | str, str, int, str]:
    """The advanced controls, in a row: hop, window length and shape, mel bands, 0 dB."""
    row = st.columns(5)
    hop = row[0].select_slider(
        "Hop length",
        HOP_CHOICES,
        **_remembered("audio_hop", "auto"),
        help="Samples from one frame to the next; auto is a quarter of the window.",
    )
    win = row[1].select_slider(
        "Window length",
        WIN_CHOICES,
        **_remembered("audio_win", "= FFT size"),
        help="Samples inside the window; a shorter window is zero-padded to the FFT "
        "size (sharper in time, same number of frequency bins).",
    )
    window = row[2].selectbox(
        "Window shape",
        list(WINDOWS),
        **_remembered("audio_window", "hann", list(WINDOWS)),
        help="How each frame fades in and out: hann suits most sounds; flat-top "
        "measures levels; rectangular is sharpest and leaks most.",
    )
    n_mels = row[3].slider(
        "Mel bands",
        16,
        256,
        step=8,
        **_remembered("audio_n_mels", 128),
        disabled=scale != "mel",
        help="Rows of the mel scale (used when the frequency scale is mel).",
    )
    reference = row[4].selectbox(
        "0 dB means",
        list(REFERENCES),
        **_remembered("audio_reference", "full scale", list(REFERENCES)),
        help="Full scale: 0 dB is a full-scale sine, so levels compare between files. "
        "Peak: 0 dB is the loudest point shown.",
    )
    return hop, win, window, n_mels, reference
