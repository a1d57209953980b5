"""How it is said: pitch (F0), intensity, formants and a voice report, measured by Praat.

Praat (through ``praat-parselmouth``) is the phoneticians' reference tool. :func:`analyse_voice`
measures a whole recording on one time grid (every 10 ms by default): the fundamental
frequency by Praat's autocorrelation method, the intensity, and the first three formants
(Burg) where the voice is voiced. Long recordings are measured in one-minute blocks with a
margin on each side, so memory stays small and progress can be shown.
:func:`voice_report` gives jitter, shimmer and harmonics-to-noise ratio of a stretch.

Both measure a voice only where there is one: pitch, formants and the report come from the
voiced frames inside the regions a speech detector hears (a tone or a chime has none), with
a pitch range adapted to the speaker in two passes (see :mod:`analysis.speech.voicing`).

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
from analysis.speech.voicing import (
    adapted_range,
    clip_regions,
    inside,
    moving_regions,
    robust_range,
    voice_regions,
)
from models.locate import MissingRuntimeError

SAMPLE_RATE = 16_000  # Hz: enough for formants up to 5.5 kHz, and a third of 48 kHz's cost
BLOCK_S = 60.0  # seconds measured at a time
PRAAT_DB_OFFSET = 10 * math.log10(1 / 4e-10)  # Praat's dB are re (2·10⁻⁵)²; ours re 1.0²
FORMANTS = 3  # F1–F3
FIRST_PASS_SHARE = 0.25  # of the progress: the first pass measures pitch only

Progress = Callable[[float, float], None]
"""Called as ``progress(seconds_done, seconds_total)`` after each block."""


@dataclass(frozen=True)
class VoiceSettings:
    """Praat's analysis parameters.

    The pitch range suits adult and children's speech (Praat's defaults are 75–600 Hz); with
    ``adapt_range`` it is only the first pass's, and the measures use the speaker's own
    range found in it (De Looze & Hirst 2008: 0.75 × Q1 to 1.5 × Q3). ``max_formant_hz`` is
    Praat's advice for a mixed set of voices (5000 Hz for men's voices, 5500 Hz for women's).
    With ``speech_only`` (the default), only the speech a voice-activity detector hears is
    measured; without it, Praat measures any periodic sound, a sine included.
    """

    time_step_s: float = 0.01  # s between frames
    pitch_floor_hz: float = 75.0
    pitch_ceiling_hz: float = 600.0
    max_formant_hz: float = 5500.0
    adapt_range: bool = True
    speech_only: bool = True

    def __post_init__(self) -> None:
        if not 0.001 <= self.time_step_s <= 1.0:
            raise InputError("The time step must be between 1 ms and 1 s.")
        if not 20.0 <= self.pitch_floor_hz < self.pitch_ceiling_hz <= SAMPLE_RATE / 2:
            raise InputError(
                f"The pitch range must satisfy 20 Hz ≤ floor < ceiling ≤ {SAMPLE_RATE // 2} Hz."
            )

    def with_range(self, floor_hz: float, ceiling_hz: float) -> VoiceSettings:
        """These settings with a fixed pitch range (no further adaptation)."""
        return replace(
            self, pitch_floor_hz=floor_hz, pitch_ceiling_hz=ceiling_hz, adapt_range=False
        )


@dataclass(frozen=True)
class Voice:
    """Praat's measurements of a recording on one time grid.

    Attributes
    ----------
    times : np.ndarray
        float64 (frames,): frame centres in seconds.
    f0_hz : np.ndarray
        float64 (frames,): fundamental frequency in Hz, NaN where unvoiced or not speech.
    intensity_db : np.ndarray
        float64 (frames,): intensity in dB re full scale (0 dB: RMS 1.0; a full-scale
        sine is -3 dB), NaN where the analysis window does not fit. Measured everywhere:
        it is the loudness of whatever sounds, voice or not.
    formants_hz : np.ndarray
        float64 (frames, 3): F1, F2, F3 in Hz, NaN where unvoiced, not speech or not found.
    speech_s : np.ndarray or None
        float64 (regions, 2): start and end (s) of the speech the detector heard; None when
        the whole sound was measured, speech or not (``VoiceSettings.speech_only=False``).
    pitch_floor_hz, pitch_ceiling_hz : float
        The pitch range Praat searched (Hz), adapted to the speaker unless fixed.
    """

    times: np.ndarray
    f0_hz: np.ndarray
    intensity_db: np.ndarray
    formants_hz: np.ndarray
    speech_s: np.ndarray | None = None
    pitch_floor_hz: float = math.nan
    pitch_ceiling_hz: float = math.nan

    def between(self, start_s: float, end_s: float) -> Voice:
        """The frames whose time lies in [start_s, end_s] s."""
        keep = (self.times >= start_s) & (self.times <= end_s)
        return replace(
            self,
            times=self.times[keep],
            f0_hz=self.f0_hz[keep],
            intensity_db=self.intensity_db[keep],
            formants_hz=self.formants_hz[keep],
            speech_s=None if self.speech_s is None else clip_regions(self.speech_s, start_s, end_s),
        )

    def shifted(self, offset_s: float) -> Voice:
        """These measurements of a part of a recording, with their times counted from the
        start of the whole recording (``offset_s`` seconds before the part's)."""
        speech = None if self.speech_s is None else self.speech_s + offset_s
        return replace(self, times=self.times + offset_s, speech_s=speech)

    @property
    def has_speech(self) -> bool:
        """Whether the detector heard speech (always True when it was not asked)."""
        return self.speech_s is None or len(self.speech_s) > 0

    def summary(self) -> dict:
        """The voiced pitch (Hz, None if nothing is voiced): median, 5th and 95th percentiles
        (``p5_hz``, ``p95_hz``: the range without octave errors), min and max; the voiced
        fraction of the frames, the seconds of speech heard, and the searched range."""
        voiced = self.f0_hz[np.isfinite(self.f0_hz)]
        speech = None if self.speech_s is None else float(np.sum(np.diff(self.speech_s)))
        facts = {
            "voiced_fraction": round(len(voiced) / len(self.f0_hz), 4) if len(voiced) else 0.0,
            "speech_s": None if speech is None else round(speech, 3),
            "floor_hz": None if math.isnan(self.pitch_floor_hz) else self.pitch_floor_hz,
            "ceiling_hz": None if math.isnan(self.pitch_ceiling_hz) else self.pitch_ceiling_hz,
        }
        spread = robust_range(voiced)
        if spread is None:
            return dict.fromkeys(("median_hz", "p5_hz", "p95_hz", "min_hz", "max_hz")) | facts
        return {
            "median_hz": round(float(np.median(voiced)), 2),
            "p5_hz": round(spread[0], 2),
            "p95_hz": round(spread[1], 2),
            "min_hz": round(float(voiced.min()), 2),
            "max_hz": round(float(voiced.max()), 2),
        } | facts

    def to_dict(self) -> dict:
        """The CLI's JSON: the voiced frames only, ``{"times_s", "f0_hz", "speech_regions_s",
        "summary"}``; with no voice, empty arrays and ``"voiced_fraction": 0``."""
        voiced = np.isfinite(self.f0_hz)
        speech = [] if self.speech_s is None else self.speech_s
        return {
            "times_s": [round(float(t), 4) for t in self.times[voiced]],
            "f0_hz": [round(float(f), 2) for f in self.f0_hz[voiced]],
            "speech_regions_s": [[round(float(a), 3), round(float(b), 3)] for a, b in speech],
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
    """Pitch, intensity and formants of a recording's voice, every ``settings.time_step_s`` s.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames), any sample rate.
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    settings : VoiceSettings
        Praat's parameters; by default only speech is measured, with the speaker's range.
    progress : callable, optional
        ``progress(seconds_done, seconds_total)`` after each one-minute block.

    Returns
    -------
    Voice
        With no speech heard, its pitch and formants are all NaN and ``speech_s`` is empty.

    Raises
    ------
    InputError
        When the recording is shorter than Praat's pitch window (3 periods of the floor).
    """
    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="measure").astype(np.float64)
    duration = len(waveform) / SAMPLE_RATE
    shortest = 3.0 / settings.pitch_floor_hz + settings.time_step_s  # Praat's pitch window
    if duration < shortest:
        raise InputError(
            f"The sound is too short to measure its pitch: it lasts {duration * 1000:.0f} ms, "
            f"and Praat needs at least {shortest * 1000:.0f} ms."
        )
    times = frame_times(duration, settings.time_step_s)
    speech = voice_regions(waveform) if settings.speech_only else None
    heard = np.ones(len(times), bool) if speech is None else inside(times, speech)
    first_pass = heard.any() and (speech is not None or settings.adapt_range)
    first_share = FIRST_PASS_SHARE if first_pass else 0.0
    if first_pass:  # pitch over Praat's wide range: is it a voice, and what is its range?
        step = _pass(progress, duration, 0.0, first_share)
        f0, _, _ = _in_blocks(waveform, times, settings, step, pitch_only=True)
        if speech is not None:
            speech = moving_regions(speech, times, f0)
            heard = inside(times, speech)
        if settings.adapt_range and heard.any():
            settings = _adapted(settings, np.where(heard, f0, np.nan), duration)
    step = _pass(progress, duration, first_share, 1.0 - first_share)
    f0, intensity, formants = _in_blocks(waveform, times, settings, step, heard)
    f0[~heard] = np.nan
    if not heard.any():  # no speech: no pitch was searched for
        return Voice(times, f0, intensity, formants, speech)
    return Voice(
        times, f0, intensity, formants, speech, settings.pitch_floor_hz, settings.pitch_ceiling_hz
    )


def _adapted(settings: VoiceSettings, f0_hz: np.ndarray, duration_s: float) -> VoiceSettings:
    """``settings`` with the speaker's pitch range from a first pass's F0 (Hz, NaN where
    not voiced speech), its floor raised if needed so Praat's window fits the sound."""
    floor, ceiling = adapted_range(f0_hz, settings.pitch_floor_hz, settings.pitch_ceiling_hz)
    floor = max(floor, 20.0, 3.0 / (duration_s - settings.time_step_s))
    return settings.with_range(floor, max(ceiling, floor + 1.0))


def _pass(progress: Progress | None, duration_s: float, before: float, share: float):
    """``progress`` for a pass over the recording that does ``share`` of the work, after
    ``before`` of it was done (both fractions); called with the seconds it has measured."""

    def step(seconds: float) -> None:
        if progress is not None:
            progress(duration_s * before + share * seconds, duration_s)

    return step


def _in_blocks(
    waveform: np.ndarray,
    times: np.ndarray,
    settings: VoiceSettings,
    step: Callable[[float], None],
    speech: np.ndarray | None = None,
    pitch_only: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F0, intensity and formants at ``times`` (s) of 16 kHz ``waveform``, one block at a
    time; formants only at voiced frames where ``speech`` is True."""
    parselmouth = _praat()
    duration = len(waveform) / SAMPLE_RATE
    f0 = np.full(len(times), np.nan)
    intensity = np.full(len(times), np.nan)
    formants = np.full((len(times), FORMANTS), np.nan)
    margin = 3.0 / settings.pitch_floor_hz  # each block sees a pitch window beyond its edges
    for block_start in np.arange(0.0, duration, BLOCK_S):
        block_end = min(block_start + BLOCK_S, duration)
        first = max(0, round((block_start - margin) * SAMPLE_RATE))
        last = min(len(waveform), round((block_end + margin) * SAMPLE_RATE))
        sound = parselmouth.Sound(waveform[first:last], SAMPLE_RATE, start_time=first / SAMPLE_RATE)
        here = (times >= block_start) & (times < block_end)
        f0[here] = _pitch(sound, times[here], settings)
        if not pitch_only:
            intensity[here] = _intensity(sound, times[here], settings)
            wanted = np.isfinite(f0[here]) & (True if speech is None else speech[here])
            formants[here] = _formants(sound, times[here], wanted, settings)
        step(block_end)
    return f0, intensity, formants


def _pitch(sound, times: np.ndarray, settings: VoiceSettings) -> np.ndarray:
    """F0 (Hz, NaN where unvoiced) of a parselmouth Sound at ``times`` (s)."""
    pitch = sound.to_pitch_ac(
        time_step=settings.time_step_s,
        pitch_floor=settings.pitch_floor_hz,
        pitch_ceiling=settings.pitch_ceiling_hz,
    )
    f0_frames = pitch.selected_array["frequency"]
    f0_frames[f0_frames == 0] = np.nan  # Praat marks unvoiced frames with 0 Hz
    return _nearest(pitch.xs(), f0_frames, times)


def _intensity(sound, times: np.ndarray, settings: VoiceSettings) -> np.ndarray:
    """Intensity (dB re full scale) of a parselmouth Sound at ``times`` (s)."""
    if sound.duration < 6.4 / settings.pitch_floor_hz:  # Praat's intensity window
        return np.full(len(times), np.nan)
    loudness = sound.to_intensity(
        minimum_pitch=settings.pitch_floor_hz, time_step=settings.time_step_s
    )
    return _nearest(loudness.xs(), loudness.values[0] - PRAAT_DB_OFFSET, times)


def _formants(sound, times: np.ndarray, wanted: np.ndarray, settings: VoiceSettings):
    """F1–F3 (Hz) of a parselmouth Sound at the ``wanted`` ones of ``times`` (s), else NaN."""
    formants = np.full((len(times), FORMANTS), np.nan)
    if not wanted.any():
        return formants
    burg = sound.to_formant_burg(
        time_step=settings.time_step_s, maximum_formant=settings.max_formant_hz
    )
    for i in np.flatnonzero(wanted):
        for k in range(FORMANTS):
            formants[i, k] = burg.get_value_at_time(k + 1, times[i])
    return formants


def _voice_of(waveform: np.ndarray, settings: VoiceSettings) -> np.ndarray:
    """The regions (s) of 16 kHz ``waveform`` where the detector hears speech and the pitch
    moves as a voice's does (as :func:`analyse_voice` finds them)."""
    speech = voice_regions(waveform)
    if len(speech) == 0:
        return speech
    times = frame_times(len(waveform) / SAMPLE_RATE, settings.time_step_s)
    f0, _, _ = _in_blocks(waveform, times, settings, lambda seconds: None, pitch_only=True)
    return moving_regions(speech, times, f0)


def voice_report(
    samples: np.ndarray,
    sample_rate: int,
    settings: VoiceSettings = VoiceSettings(),
    speech_s: np.ndarray | None = None,
) -> VoiceReport:
    """Jitter, shimmer and harmonics-to-noise ratio of a stretch of speech (Praat's Voice report).

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D or (channels, frames), any sample rate.
    sample_rate : int
        Hz.
    settings : VoiceSettings
        The pitch range bounds the periods Praat looks for (adapted to the speaker unless
        ``adapt_range`` is off); with ``speech_only``, only speech is measured.
    speech_s : np.ndarray, optional
        (regions, 2) start and end (s, from the stretch's start) of its speech, when already
        known (e.g. from :func:`analyse_voice`); by default the detector is asked.

    Returns
    -------
    VoiceReport
        Its measures are NaN when the stretch holds too few voice periods, or no speech.
    """
    parselmouth = _praat()
    from parselmouth.praat import call

    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="measure").astype(np.float64)
    duration = len(waveform) / SAMPLE_RATE
    nothing = VoiceReport(*(math.nan,) * 4, 0.0)
    if duration < 3.0 / settings.pitch_floor_hz + settings.time_step_s:
        return nothing
    if settings.speech_only:
        speech = _voice_of(waveform, settings) if speech_s is None else speech_s
        if len(speech) == 0:
            return nothing
        # Silence elsewhere: no periods are found there, and none spans a gap (at most 20 ms).
        waveform = waveform * inside(np.arange(len(waveform)) / SAMPLE_RATE, speech)
    sound = parselmouth.Sound(waveform, SAMPLE_RATE)
    floor, ceiling = settings.pitch_floor_hz, settings.pitch_ceiling_hz
    pitch = sound.to_pitch_cc(pitch_floor=floor, pitch_ceiling=ceiling)
    if settings.adapt_range:
        first = pitch.selected_array["frequency"]
        adapted = _adapted(settings, np.where(first > 0, first, np.nan), duration)
        floor, ceiling = adapted.pitch_floor_hz, adapted.pitch_ceiling_hz
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
