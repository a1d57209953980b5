"""How it is said: pitch (F0), intensity, formants and a voice report, measured by Praat.

Praat (through ``praat-parselmouth``) is the phoneticians' reference tool. :func:`analyse_voice`
measures a whole recording on one time grid (every 10 ms by default): the fundamental
frequency by Praat's autocorrelation method, the intensity, and the first three formants
(Burg) where the voice is voiced. Long recordings are measured in one-minute blocks with a
margin on each side, so memory stays small and progress can be shown.
:func:`voice_report` gives jitter, shimmer and harmonics-to-noise ratio of a stretch.

Example
-------
>>> voice = analyse_voice(samples, sample_rate)  # doctest: +SKIP
>>> voice.summary()["median_hz"]  # doctest: +SKIP
118.4
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from analysis.audio.resample import mono_at
from analysis.errors import InputError
from models.locate import MissingRuntimeError

SAMPLE_RATE = 16_000  # Hz: enough for formants up to 5.5 kHz, and a third of 48 kHz's cost
BLOCK_S = 60.0  # seconds measured at a time
PRAAT_DB_OFFSET = 10 * math.log10(1 / 4e-10)  # Praat's dB are re (2·10⁻⁵)²; ours re 1.0²
FORMANTS = 3  # F1–F3

Progress = Callable[[float, float], None]
"""Called as ``progress(seconds_done, seconds_total)`` after each block."""


@dataclass(frozen=True)
class VoiceSettings:
    """Praat's analysis parameters.

    The pitch range suits adult and children's speech (Praat's defaults are 75–600 Hz);
    ``max_formant_hz`` is Praat's advice for a mixed set of voices (5000 Hz for men's
    voices, 5500 Hz for women's).
    """

    time_step_s: float = 0.01  # s between frames
    pitch_floor_hz: float = 75.0
    pitch_ceiling_hz: float = 600.0
    max_formant_hz: float = 5500.0

    def __post_init__(self) -> None:
        if not 0.001 <= self.time_step_s <= 1.0:
            raise InputError("The time step must be between 1 ms and 1 s.")
        if not 20.0 <= self.pitch_floor_hz < self.pitch_ceiling_hz <= SAMPLE_RATE / 2:
            raise InputError(
                f"The pitch range must satisfy 20 Hz ≤ floor < ceiling ≤ {SAMPLE_RATE // 2} Hz."
            )


@dataclass(frozen=True)
class Voice:
    """Praat's measurements of a recording on one time grid.

    Attributes
    ----------
    times : np.ndarray
        float64 (frames,): frame centres in seconds.
    f0_hz : np.ndarray
        float64 (frames,): fundamental frequency in Hz, NaN where unvoiced.
    intensity_db : np.ndarray
        float64 (frames,): intensity in dB re full scale (0 dB: RMS 1.0; a full-scale
        sine is -3 dB), NaN where the analysis window does not fit.
    formants_hz : np.ndarray
        float64 (frames, 3): F1, F2, F3 in Hz, NaN where unvoiced or not found.
    """

    times: np.ndarray
    f0_hz: np.ndarray
    intensity_db: np.ndarray
    formants_hz: np.ndarray

    def between(self, start_s: float, end_s: float) -> Voice:
        """The frames whose time lies in [start_s, end_s] s."""
        keep = (self.times >= start_s) & (self.times <= end_s)
        return Voice(
            self.times[keep], self.f0_hz[keep], self.intensity_db[keep], self.formants_hz[keep]
        )

    def shifted(self, offset_s: float) -> Voice:
        """These measurements of a part of a recording, with their times counted from the
        start of the whole recording (``offset_s`` seconds before the part's)."""
        return replace(self, times=self.times + offset_s)

    def summary(self) -> dict:
        """Median, min and max F0 (Hz, None if nothing is voiced) and the voiced fraction."""
        voiced = self.f0_hz[np.isfinite(self.f0_hz)]
        if len(voiced) == 0:
            return {"median_hz": None, "min_hz": None, "max_hz": None, "voiced_fraction": 0.0}
        return {
            "median_hz": round(float(np.median(voiced)), 2),
            "min_hz": round(float(voiced.min()), 2),
            "max_hz": round(float(voiced.max()), 2),
            "voiced_fraction": round(len(voiced) / len(self.f0_hz), 4),
        }

    def to_dict(self) -> dict:
        """The CLI's JSON: ``{"times_s", "f0_hz" (null where unvoiced), "summary"}``."""
        return {
            "times_s": [round(float(t), 4) for t in self.times],
            "f0_hz": [None if math.isnan(f) else round(float(f), 2) for f in self.f0_hz],
            "summary": self.summary(),
        }


@dataclass(frozen=True)
class VoiceReport:
    """Praat's voice-quality measures of a stretch of speech (NaN when undefined)."""

    median_f0_hz: float
    jitter_percent: float  # local jitter: mean period-to-period change / mean period
    shimmer_percent: float  # local shimmer: the same for peak amplitudes
    hnr_db: float  # harmonics-to-noise ratio
    voiced_s: float  # seconds of voiced speech the measures come from


def _praat():
    try:
        import parselmouth
    except ImportError:
        raise MissingRuntimeError(
            "Pitch and formants need the praat-parselmouth package, which is not installed. "
            "To get it, run `pip install praat-parselmouth`."
        ) from None
    return parselmouth


def frame_times(duration_s: float, time_step_s: float) -> np.ndarray:
    """Centres of the frames (s) that tile ``duration_s`` seconds, ``time_step_s`` apart."""
    return (np.arange(max(1, math.floor(duration_s / time_step_s))) + 0.5) * time_step_s


def _nearest(frame_times_s: np.ndarray, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``values`` of the analysis frame nearest each of ``times``; NaN outside the frames."""
    if len(frame_times_s) == 0:
        return np.full(len(times), np.nan)
    step = frame_times_s[1] - frame_times_s[0] if len(frame_times_s) > 1 else 1.0
    index = np.round((times - frame_times_s[0]) / step).astype(np.int64)
    inside = (index >= 0) & (index < len(frame_times_s))
    out = np.full(len(times), np.nan)
    out[inside] = values[index[inside]]
    return out


def analyse_voice(
    samples: np.ndarray,
    sample_rate: int,
    settings: VoiceSettings = VoiceSettings(),
    progress: Progress | None = None,
) -> Voice:
    """Pitch, intensity and formants of a recording, every ``settings.time_step_s`` seconds.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames), any sample rate.
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    settings : VoiceSettings
        Praat's parameters.
    progress : callable, optional
        ``progress(seconds_done, seconds_total)`` after each one-minute block.

    Returns
    -------
    Voice

    Raises
    ------
    InputError
        When the recording is shorter than Praat's pitch window (3 periods of the floor).
    """
    parselmouth = _praat()
    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="measure").astype(np.float64)
    duration = len(waveform) / SAMPLE_RATE
    window_s = 3.0 / settings.pitch_floor_hz  # Praat's pitch window: 3 periods of the floor
    if duration < window_s + settings.time_step_s:
        raise InputError(
            f"The sound is too short to measure its pitch: it lasts {duration * 1000:.0f} ms, "
            f"and Praat needs at least {(window_s + settings.time_step_s) * 1000:.0f} ms."
        )
    times = frame_times(duration, settings.time_step_s)
    f0 = np.full(len(times), np.nan)
    intensity = np.full(len(times), np.nan)
    formants = np.full((len(times), FORMANTS), np.nan)
    margin = window_s  # each block sees a window's worth of sound beyond its edges
    for block_start in np.arange(0.0, duration, BLOCK_S):
        block_end = min(block_start + BLOCK_S, duration)
        first = max(0, round((block_start - margin) * SAMPLE_RATE))
        last = min(len(waveform), round((block_end + margin) * SAMPLE_RATE))
        sound = parselmouth.Sound(waveform[first:last], SAMPLE_RATE, start_time=first / SAMPLE_RATE)
        here = (times >= block_start) & (times < block_end)
        block_f0, block_intensity, block_formants = _measure(sound, times[here], settings)
        f0[here], intensity[here], formants[here] = block_f0, block_intensity, block_formants
        if progress is not None:
            progress(block_end, duration)
    return Voice(times, f0, intensity, formants)


def _measure(sound, times: np.ndarray, settings: VoiceSettings):
    """F0, intensity and formants of one parselmouth Sound at ``times`` (s)."""
    pitch = sound.to_pitch_ac(
        time_step=settings.time_step_s,
        pitch_floor=settings.pitch_floor_hz,
        pitch_ceiling=settings.pitch_ceiling_hz,
    )
    f0_frames = pitch.selected_array["frequency"]
    f0_frames[f0_frames == 0] = np.nan  # Praat marks unvoiced frames with 0 Hz
    f0 = _nearest(pitch.xs(), f0_frames, times)
    intensity = np.full(len(times), np.nan)
    if sound.duration >= 6.4 / settings.pitch_floor_hz:  # Praat's intensity window
        loudness = sound.to_intensity(
            minimum_pitch=settings.pitch_floor_hz, time_step=settings.time_step_s
        )
        intensity = _nearest(loudness.xs(), loudness.values[0] - PRAAT_DB_OFFSET, times)
    formants = np.full((len(times), FORMANTS), np.nan)
    voiced = np.flatnonzero(np.isfinite(f0))
    if len(voiced):
        burg = sound.to_formant_burg(
            time_step=settings.time_step_s, maximum_formant=settings.max_formant_hz
        )
        for i in voiced:
            for k in range(FORMANTS):
                formants[i, k] = burg.get_value_at_time(k + 1, times[i])
    return f0, intensity, formants


def voice_report(
    samples: np.ndarray, sample_rate: int, settings: VoiceSettings = VoiceSettings()
) -> VoiceReport:
    """Jitter, shimmer and harmonics-to-noise ratio of a stretch of speech (Praat's Voice report).

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D or (channels, frames), any sample rate.
    sample_rate : int
        Hz.
    settings : VoiceSettings
        The pitch range bounds the periods Praat looks for.

    Returns
    -------
    VoiceReport
        Its measures are NaN when the stretch holds too few voice periods.
    """
    parselmouth = _praat()
    from parselmouth.praat import call

    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="measure").astype(np.float64)
    duration = len(waveform) / SAMPLE_RATE
    if duration < 3.0 / settings.pitch_floor_hz + settings.time_step_s:
        return VoiceReport(*(math.nan,) * 4, 0.0)
    sound = parselmouth.Sound(waveform, SAMPLE_RATE)
    floor, ceiling = settings.pitch_floor_hz, settings.pitch_ceiling_hz
    pitch = sound.to_pitch_cc(pitch_floor=floor, pitch_ceiling=ceiling)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    if len(voiced) < 3:
        return VoiceReport(*(math.nan,) * 4, len(voiced) * pitch.dt)
    periods = call(sound, "To PointProcess (periodic, cc)", floor, ceiling)
    # Praat's standard arguments: periods from 0.1 to 20 ms, at most 1.3 times their neighbours.
    jitter = call(periods, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
    shimmer = call([sound, periods], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
    harmonicity = sound.to_harmonicity_cc(time_step=settings.time_step_s, minimum_pitch=floor)
    hnr = harmonicity.values[harmonicity.values != -200]  # -200 dB marks unvoiced frames
    return VoiceReport(
        median_f0_hz=float(np.median(voiced)),
        jitter_percent=100 * float(jitter),
        shimmer_percent=100 * float(shimmer),
        hnr_db=float(hnr.mean()) if hnr.size else math.nan,
        voiced_s=len(voiced) * pitch.dt,
    )
