"""Audio: drop in a sound, see its spectrogram and waveform, listen to any part of it."""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable

import numpy as np
import streamlit as st

from analysis.audio.axes import PlotAxes, plot_axes
from analysis.audio.decode import AudioClip, demo_clip, load_audio, to_wav_bytes
from analysis.audio.exports import export_limit_s, frames_csv, frames_npz, grid_csv, stft_frames
from analysis.audio.render import COLORMAPS, render_spectrogram, render_waveform, spectrogram_title
from analysis.audio.spectrogram import SCALES, Cancelled, Spectrogram, is_silent, spectrogram, to_db
from analysis.audio.stft import WINDOWS, STFTParams
from analysis.errors import InputError
from analysis.figures import (
    PHONE_SPECTROGRAM_LAYOUT,
    PHONE_WAVEFORM_LAYOUT,
    SPECTROGRAM_LAYOUT,
    WAVEFORM_LAYOUT,
)
from analysis.filenames import safe_stem
from ui.device import is_phone
from ui.internals import newer_run_waiting
from ui.sections.speech import show_speech
from ui.sections.tags import show_tags
from ui.spectrogram_view import Reset, ViewChange, pooled_levels, spectrogram_view
from ui.state import kept_file, remember

LOG = logging.getLogger(__name__)
# Containers a browser's <audio> element plays as they are; others are converted to WAV.
BROWSER_PLAYABLE = {
    "WAV": "audio/wav",
    "FLAC": "audio/flac",
    "OGG": "audio/ogg",
    "MP3": "audio/mpeg",
}
FFT_SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384]
HOP_CHOICES = ["auto", 32, 64, 128, 256, 512, 1024, 2048, 4096]
WIN_CHOICES = ["= FFT size", 128, 256, 512, 1024, 2048, 4096, 8192]
SCALE_LABELS = {"log": "Log", "linear": "Linear", "mel": "Mel"}
REFERENCES = {"full scale": 1.0, "peak": "peak"}
ENCODINGS = {
    "PCM_U8": "8-bit PCM",
    "PCM_S8": "8-bit PCM",
    "PCM_16": "16-bit PCM",
    "PCM_24": "24-bit PCM",
    "PCM_32": "32-bit PCM",
    "FLOAT": "32-bit float",
    "DOUBLE": "64-bit float",
    "VORBIS": "Vorbis",
    "OPUS": "Opus",
    "MPEG_LAYER_III": "MP3",
}
# Every-frame exports hold at most this many values (frames × bins): ~60 MB of CSV.
MAX_EXPORT_VALUES = 8_000_000
# A selection up to this long plays as a WAV of its own (exact in any format: an MP3 seeks
# only roughly); longer ones play from the whole file, as a WAV costs ~0.1 s a minute of stereo.
EXACT_PLAYBACK_S = 60
# Set by a box or reset on the spectrogram: the next full run draws the view it asked for.
VIEW_ASKED = "_audio_view_asked"
VIEWS_ASKED = "_audio_views_asked"  # how many: each gets a time range slider of its own
UNEXPECTED = "Something went wrong while analysing this audio; try another file or other settings."


# --- caching: decode once per file, compute only what a control changes ------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def decode(file_key: str, _data: bytes, name: str) -> AudioClip:
    """The decoded clip, shared by every session that opens the same content."""
    return load_audio(_data, name=markdown_literal(name))


@st.cache_resource(max_entries=1, show_spinner=False)
def sample_clip() -> tuple[AudioClip, bytes]:
    clip = demo_clip()
    return clip, to_wav_bytes(clip.samples, clip.sample_rate)


@st.cache_resource(max_entries=4, show_spinner=False)
def analysed_signal(file_key: str, _clip: AudioClip, channel: int | None) -> np.ndarray:
    """The mono signal the pictures show: the channel mix (None) or one channel.

    A channel is a view of the clip (no memory), so a stereo file's mix and both channels
    stay here together: going back to the mix does not recompute it.
    """
    return _clip.mono() if channel is None else _clip.channel(channel)


@st.cache_resource(max_entries=2, show_spinner=False)
def playback_wav(file_key: str, _clip: AudioClip) -> bytes:
    """WAV for formats or channel counts a browser may not play as they are."""
    samples = _clip.samples if _clip.channels <= 2 else _clip.mono()
    return to_wav_bytes(samples, _clip.sample_rate)


@st.cache_resource(max_entries=2, show_spinner=False)
def selection_wav(file_key: str, _clip: AudioClip, start_s: float, end_s: float) -> bytes:
    """WAV of the selected range only, for exact playback of it."""
    first, last = round(start_s * _clip.sample_rate), round(end_s * _clip.sample_rate)
    samples = _clip.samples[:, first:last]
    if _clip.channels > 2:
        samples = samples.mean(axis=0, dtype=np.float32)
    return to_wav_bytes(samples, _clip.sample_rate)


@st.cache_data(max_entries=24, show_spinner=False)
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


@st.cache_data(max_entries=24, show_spinner=False)
def waveform_picture(
    file_key: str,
    _signal: np.ndarray,
    sample_rate: int,
    channel: int | None,
    start_s: float,
    end_s: float,
    phone: bool,
) -> bytes:
    first, last = round(start_s * sample_rate), round(end_s * sample_rate)
    layout = PHONE_WAVEFORM_LAYOUT if phone else WAVEFORM_LAYOUT
    return render_waveform(
        _signal[first:last], sample_rate, start_s=start_s, layout=layout, image_format="jpeg"
    )


def markdown_literal(text: str) -> str:
    """User text (a file name) shown literally in Streamlit's markdown: no links, no styling."""
    return re.sub(r"([\\`*_\[\]<>#~$|:])", r"\\\1", text)


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s" if seconds < 1 else f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f} min"


def show_unexpected(error: Exception) -> None:
    LOG.exception("audio page", exc_info=error)
    st.error(UNEXPECTED)


def time_slider(clip: AudioClip, file_key: str) -> tuple[str, float, float]:
    """The time range slider's key, step and end, seconds.

    A new file gets a fresh range through the key, and so does each view asked for on the
    spectrogram: a run the browser asked for before the new range reached it (a progress
    poll's) carries the old range, which would otherwise come back under the new slider.
    """
    step = max(round(clip.duration / 2000, 3), 0.001)
    end = max(round(clip.duration, 3), step)  # a clip under a millisecond still gets a range
    return f"audio_time_range_{file_key}_{st.session_state.get(VIEWS_ASKED, 0)}", step, end


def format_hz(hz: float) -> str:
    """A frequency for a caption: "200 Hz", "4 kHz", "2.56 kHz"."""
    return f"{hz:.3g} Hz" if hz < 1000 else f"{hz / 1000:.3g} kHz"


def spectrogram_caption(
    spec: Spectrogram, sample_rate: int, seconds: float, band: tuple[float, float] | None = None
) -> str:
    """What the picture shows and how it was computed; ``band``: the zoomed band (Hz)."""
    p = spec.params
    hop_ms = 1000 * p.hop_length / sample_rate
    rows, columns = spec.power.shape
    caption = (
        f"{spec.frames:,} frames of {p.n_fft} samples ({sample_rate / p.n_fft:.1f} Hz per bin, "
        f"{p.window} window of {p.win_length}, hop {p.hop_length} = {hop_ms:.1f} ms), "
        f"shown as {columns} columns × {rows} rows over {seconds:.2f} s"
    )
    if band is not None:
        caption += f", showing {format_hz(band[0])} – {format_hz(band[1])}"
    if spec.frame_step > 1:  # the work was bounded: say so, and how to see every frame
        caption += (
            f". Long range: 1 frame in {spec.frame_step} computed for the picture; zoom in or "
            "export for every frame."
        )
    return caption


# --- the page, top to bottom -------------------------------------------------------------

st.title("Audio")
st.caption(
    "Drop in a sound to see its spectrogram — which frequencies are loud, and when — "
    "and its waveform. Everything is computed here, at the file's own sample rate."
)

SOURCES = ["Upload a file", "Record", "Try a sample"]
source = st.radio(
    "Sound source",
    SOURCES,
    horizontal=True,
    label_visibility="collapsed",
    key=remember("audio_source", SOURCES[0]),
)
clip: AudioClip | None = None
file_key = name = ""
playback: tuple[bytes, str] | None = None
try:
    if source == "Upload a file":
        kept = kept_file(
            "audio_upload",
            lambda key: st.file_uploader(
                "Drop an audio file here: WAV, FLAC, OGG, Opus, MP3 or AIFF",
                # No type filter: Streamlit would drop a wrong file without a word, where the
                # decoder says what is wrong with it.
                help="Any sample rate and number of channels; other kinds of file are refused.",
                key=key,
            ),
        )
        if kept is not None:
            file_key, name = kept.digest, kept.name
            with st.spinner("Decoding the file…"):
                clip = decode(file_key, kept.data, name)
            if clip.format in BROWSER_PLAYABLE and clip.channels <= 2:
                playback = (kept.data, BROWSER_PLAYABLE[clip.format])
    elif source == "Record":
        kept = kept_file(
            "audio_recording",
            lambda key: st.audio_input("Record from your microphone", sample_rate=None, key=key),
        )
        if kept is not None:
            file_key, name = kept.digest, "recording.wav"
            clip = decode(file_key, kept.data, name)
            playback = (kept.data, "audio/wav")
    else:
        st.caption(
            "A synthesized sample: a rising chirp, a tone with harmonics that steps up a "
            "fifth half-way, three noise bursts and a faint noise floor."
        )
        clip, sample_wav = sample_clip()
        file_key, name, playback = "sample", "sample.wav", (sample_wav, "audio/wav")
except InputError as error:
    st.error(str(error))
except Exception as error:
    show_unexpected(error)

if clip is None:
    if not file_key and source == "Upload a file":
        st.info("Drop a file above, record one, or try the sample.")
    st.stop()

st.text(name)  # text, not markdown: a user's file name
facts = st.columns(5)
facts[0].metric("Duration", format_duration(clip.duration))
facts[1].metric("Sample rate", f"{clip.sample_rate:,} Hz")
facts[2].metric("Channels", clip.channels)
facts[3].metric("Format", clip.format)
facts[4].metric("Encoding", ENCODINGS.get(clip.subtype, clip.subtype.replace("_", " ")))
for warning in clip.warnings:
    st.warning(warning)

# The time range drives everything below it (pictures, playback, tags), so it lives outside
# the spectrogram fragment. A box dragged on the spectrogram sets it too (see ask_for_view),
# and this run draws that view.
st.session_state.pop(VIEW_ASKED, None)
range_key, step, slider_end = time_slider(clip, file_key)
start_s, end_s = st.slider(
    "Time range (s)",
    min_value=0.0,
    max_value=slider_end,
    step=step,
    format="%.3f" if clip.duration < 10 else "%.1f",
    key=remember(range_key, (0.0, slider_end)),
)
if end_s <= start_s:  # both handles together: keep the step of sound before them
    start_s, end_s = (end_s - step, end_s) if end_s >= step else (0.0, step)
end_s = min(end_s, clip.duration)
whole_file = start_s <= 0 and end_s >= min(slider_end, clip.duration)
# What the spectrogram plays: (bytes, type, time in the file of its first sample, s).
if not whole_file and end_s - start_s <= EXACT_PLAYBACK_S:
    sound = (selection_wav(file_key, clip, start_s, end_s), "audio/wav", start_s)
else:
    if playback is None:
        playback = (playback_wav(file_key, clip), "audio/wav")
    sound = (*playback, 0.0)


def ask_for_view(change: ViewChange, shown: PlotAxes, clip: AudioClip, file_key: str) -> None:
    """The spectrogram's callback: a box sets the time range and band, a reset the whole file.

    ``shown`` is the view the box was drawn on. The run it causes is the spectrogram
    fragment's, which asks for a full run (VIEW_ASKED) to draw the time range slider.
    """
    band_key = f"audio_band_{file_key}"
    st.session_state[VIEWS_ASKED] = st.session_state.get(VIEWS_ASKED, 0) + 1
    range_key, _step, slider_end = time_slider(clip, file_key)  # a new slider's
    if isinstance(change, Reset):
        st.session_state[range_key] = (0.0, slider_end)
        st.session_state.pop(band_key, None)
    else:
        start, end = max(round(change.start_s, 3), 0.0), min(round(change.end_s, 3), slider_end)
        st.session_state[range_key] = (start, max(end, start))
        # A box as tall as the picture, or a wheel zoom, keeps the band shown.
        if not (
            math.isclose(change.fmin_hz, shown.fmin_hz, rel_tol=1e-6, abs_tol=1e-6)
            and math.isclose(change.fmax_hz, shown.fmax_hz, rel_tol=1e-6)
        ):
            st.session_state[band_key] = (change.fmin_hz, change.fmax_hz)
    st.session_state[VIEW_ASKED] = True


@st.fragment
def spectrogram_section(
    clip: AudioClip,
    file_key: str,
    name: str,
    start_s: float,
    end_s: float,
    sound: tuple[bytes, str, float],
) -> None:
    """Controls and pictures; moving a control reruns only this part of the page."""
    if st.session_state.pop(VIEW_ASKED, False):
        st.rerun()  # a box set the time range, which is drawn outside this fragment
    try:
        show_spectrogram(clip, file_key, name, start_s, end_s, sound)
    except InputError as error:
        st.error(str(error))
    except Exception as error:
        show_unexpected(error)


def show_spectrogram(
    clip: AudioClip,
    file_key: str,
    name: str,
    start_s: float,
    end_s: float,
    sound: tuple[bytes, str, float],
) -> None:
    with st.container(border=True):
        row = st.columns([3, 2, 2, 2])
        n_fft = row[0].select_slider(
            "Frequency detail (FFT size)",
            FFT_SIZES,
            key=remember("audio_n_fft", 2048),
            help="Samples in each analysis frame. More: finer detail in pitch, blurrier in "
            "time. Fewer: sharp in time, coarse in pitch.",
        )
        scale = row[1].radio(
            "Frequency scale",
            SCALES,
            format_func=SCALE_LABELS.get,
            horizontal=True,
            key=remember("audio_scale", "log"),
            help="Log spreads the low notes out, as hearing does; linear is even in Hz; mel "
            "follows perceived pitch.",
        )
        db_range = row[2].slider(
            "Loudness range (dB)",
            20,
            140,
            step=5,
            key=remember("audio_db_range", 80),
            help="How far below the loudest sound still gets a colour; quieter is drawn dark.",
        )
        cmap = row[3].selectbox("Colours", COLORMAPS, key=remember("audio_cmap", COLORMAPS[0]))
        channel = None
        if clip.channels > 1:
            choices = [None, *range(clip.channels)]
            channel_key = remember(f"audio_channel_{clip.channels}", None)
            channel = st.selectbox(
                "Channel",
                choices,
                format_func=lambda c: "mix of all channels" if c is None else f"channel {c + 1}",
                key=channel_key,
            )
        with st.expander("Advanced"):
            row = st.columns(5)
            hop = row[0].select_slider(
                "Hop length",
                HOP_CHOICES,
                key=remember("audio_hop", "auto"),
                help="Samples from one frame to the next; auto is a quarter of the window.",
            )
            win = row[1].select_slider(
                "Window length",
                WIN_CHOICES,
                key=remember("audio_win", "= FFT size"),
                help="Samples inside the window; a shorter window is zero-padded to the FFT "
                "size (sharper in time, same number of frequency bins).",
            )
            window = row[2].selectbox(
                "Window shape",
                list(WINDOWS),
                key=remember("audio_window", "hann"),
                help="How each frame fades in and out: hann suits most sounds; flat-top "
                "measures levels; rectangular is sharpest and leaks most.",
            )
            n_mels = row[3].slider(
                "Mel bands",
                16,
                256,
                step=8,
                key=remember("audio_n_mels", 128),
                disabled=scale != "mel",
                help="Rows of the mel scale (used when the frequency scale is mel).",
            )
            reference = row[4].selectbox(
                "0 dB means",
                list(REFERENCES),
                key=remember("audio_reference", "full scale"),
                help="Full scale: 0 dB is a full-scale sine, so levels compare between files. "
                "Peak: 0 dB is the loudest point shown.",
            )

    n_mels = n_mels if scale == "mel" else 128  # other scales ignore it: keep caches warm
    win_length = None if win == "= FFT size" else min(int(win), n_fft)
    if win != "= FFT size" and int(win) > n_fft:
        st.caption(f"The window length is capped at the FFT size ({n_fft} samples).")
    signal = analysed_signal(file_key, clip, channel)
    band_key = f"audio_band_{file_key}"
    band = st.session_state.get(band_key)  # a box's frequency band, Hz; None: all of it
    # Larger text and fewer ticks on a phone, where the picture is shown ~360 px wide.
    phone = is_phone()
    layout = PHONE_SPECTROGRAM_LAYOUT if phone else SPECTROGRAM_LAYOUT
    with st.spinner("Computing the spectrogram…"):
        try:
            spec = compute_spectrogram(
                file_key,
                signal,
                clip.sample_rate,
                channel,
                start_s,
                end_s,
                n_fft,
                None if hop == "auto" else int(hop),
                win_length,
                window,
                scale,
                n_mels,
                band,
                phone,
                _cancelled=newer_run_waiting,
            )
        except Cancelled:  # a newer change is queued: stop here so that it starts at once
            st.caption("Settings changed: drawing the newer ones…")
            return
        except InputError as error:
            if band is None:
                raise
            # E.g. a band below 20 Hz, zoomed on the linear scale, then the log scale chosen.
            st.error(str(error))
            st.button("Show all frequencies", on_click=st.session_state.pop, args=(band_key,))
            return
        db, peak_db = to_db(spec.power, db_range=db_range, ref=REFERENCES[reference])
        db_label = "dB re full scale" if REFERENCES[reference] == 1.0 else "dB re peak"
        options = dict(db_floor=peak_db - db_range, db_top=peak_db, db_label=db_label, cmap=cmap)
        picture = render_spectrogram(spec, db, image_format="jpeg", layout=layout, **options)
    axes = plot_axes(spec, layout)
    audio, audio_mime, audio_start_s = sound
    spectrogram_view(
        picture,
        "image/jpeg",
        audio,
        axes,
        key=f"audio_spectrogram_{file_key}",
        audio_mime=audio_mime,
        audio_start_s=audio_start_s,
        levels=pooled_levels(spec, db),
        on_change=functools.partial(ask_for_view, shown=axes, clip=clip, file_key=file_key),
    )
    shown_band = None if band is None else (axes.fmin_hz, axes.fmax_hz)
    st.caption(spectrogram_caption(spec, clip.sample_rate, end_s - start_s, shown_band))
    if is_silent(spec.power):
        st.info("This selection is silent (nothing above −120 dB), so the spectrogram is flat.")
    if (end_s - start_s) * clip.sample_rate < n_fft:
        st.caption(
            f"The selection is shorter than the FFT size ({n_fft} samples): each frame reaches "
            "past it, into the sound around it or zero padding beyond the file's ends."
        )
    st.image(waveform_picture(file_key, signal, clip.sample_rate, channel, start_s, end_s, phone))

    stem = safe_stem(name, default="audio")
    p = spec.params
    exportable = spec.frames * (p.n_fft // 2 + 1) <= MAX_EXPORT_VALUES
    downloads = st.columns(4 if exportable else [1, 2, 1], vertical_alignment="center")
    downloads[0].download_button(
        "Spectrogram (PNG)",
        lambda: render_spectrogram(
            spec, db, image_format="png", title=spectrogram_title(name, spec, db_range), **options
        ),
        f"{stem}-spectrogram.png",
        "image/png",
        on_click="ignore",
    )
    if exportable:
        # Computed on click, never during a rerun: every frame and bin of the range.
        ref = REFERENCES[reference]

        def frames_db():
            table = stft_frames(
                signal,
                clip.sample_rate,
                p,
                start_s=start_s,
                end_s=end_s,
                max_values=MAX_EXPORT_VALUES,
            )
            return table, to_db(table.power, db_range=None, ref=ref)[0]

        settings = dict(
            db_reference=reference,
            start_s=start_s,
            end_s=end_s,
            channel="mix of all channels" if channel is None else f"channel {channel + 1}",
            source=name,
        )
        every_frame = f"Every frame and FFT bin of the selection, in {db_label}"
        downloads[1].download_button(
            "Every frame (CSV)",
            lambda: frames_csv(*frames_db()),
            f"{stem}-stft-db.csv",
            "text/csv",
            on_click="ignore",
            help=f"{every_frame}: one row per frame, its time in s, then one column per bin.",
        )
        downloads[2].download_button(
            "Every frame (NPZ)",
            lambda: frames_npz(*frames_db(), **settings),
            f"{stem}-stft-db.npz",
            "application/octet-stream",
            on_click="ignore",
            help=f"{every_frame}, for NumPy: db, times_s, freqs_hz and the settings.",
        )
    else:
        limit = export_limit_s(p, clip.sample_rate, MAX_EXPORT_VALUES)
        downloads[1].caption(f"Select at most {limit:g} s to export every frame at these settings.")
    downloads[-1].download_button(
        "Picture grid (CSV)",
        lambda: grid_csv(spec, db),
        f"{stem}-spectrogram-grid-db.csv",
        "text/csv",
        on_click="ignore",
        help=f"The values the picture shows, in {db_label}: one column per pixel column, one "
        "row per pixel row (frames and bins pooled by maximum).",
    )


spectrogram_section(clip, file_key, name, start_s, end_s, sound)
try:
    show_tags(clip, start_s, end_s, file_key)
except Exception as error:
    show_unexpected(error)
try:
    show_speech(clip, start_s, end_s, file_key, range_key=range_key)
except Exception as error:
    show_unexpected(error)
