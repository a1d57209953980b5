"""Where a recording holds a voice, and the pitch range of that voice.

Praat calls any periodic sound "voiced": a sine, a door chime, a synthesizer's note. Voice
measures are only meaningful on speech, so :func:`voice_regions` asks a speech detector
first: Silero VAD (the one faster-whisper ships, as for the transcript), which on this
machine's real recordings (codec2's and ALSA's read speech, Asterisk's French prompts,
espeak-ng) finds speech in every file, and none in tones, chimes, synthesized melodies and
chords, white or pink noise, or silence. But the detector calls the first half second of
a steady buzz (a tone with harmonics, a synthesized vowel) speech; :func:`moving_regions`
drops regions whose pitch does not move as a voice's does: in 392 regions of real and
espeak-ng speech, the 10th to 90th percentile of F0 spans at least 1.4 semitones (median
10), while a machine's tone spans 0 and a synthesizer's 1 % vibrato 0.3. Praat then
measures the voiced frames inside the regions that are left.

:func:`adapted_range` is the second of the two passes phoneticians use to set Praat's pitch
range to the speaker (De Looze & Hirst 2008, "Detecting changes in key and range for the
automatic modelling and coding of intonation", Speech Prosody): a first pass over a wide
range, then floor = 0.75 × its first quartile and ceiling = 1.5 × its third quartile, so the
octave jumps of the first pass do not widen the second. The first pass uses Praat's own
default range, 75–600 Hz: on the noisy male recording ``mmt1`` a 50–700 Hz first pass
found so many octave-up frames that its third quartile was 568 Hz.
"""

from __future__ import annotations

import numpy as np

VAD_PART_S = 600.0  # s of sound given to the detector at a time
VAD_THRESHOLD = 0.4  # Silero's speech probability of a short word (Whisper's regions: 0.5)
VAD_MIN_SPEECH_MS = 64  # two of Silero's 32 ms frames: a short word
FLOOR_FACTOR = 0.75  # De Looze & Hirst (2008): floor = 0.75 × Q1
CEILING_FACTOR = 1.5  # and ceiling = 1.5 × Q3
MIN_MOVEMENT_ST = 0.5  # a region's F0 spans less (10th–90th percentile, semitones): no voice
MOVEMENT_FRAMES = 5  # a region with fewer voiced frames is kept: too few to judge
MIN_VOICED_FRAMES = 10  # fewer first-pass frames than this (0.1 s) leave the range as it was
ROBUST_PERCENTILES = (5.0, 95.0)  # the pitch range shown: octave errors fall outside


def voice_regions(waveform: np.ndarray) -> np.ndarray:
    """Where speech is in mono 16 kHz audio, as (regions, 2) start and end times (s).

    Silero VAD's regions, as for the transcript (see
    :func:`analysis.speech.whisper.speech_regions`); when it finds none, it is asked again,
    more sensitively (threshold 0.4, words from 64 ms): at Whisper's 0.5 and 120 ms, single
    French words of Asterisk's ("heures", "minutes") were missed, while down to 0.35 no
    tone, chime, beep, modem signal or noise was taken for speech (at 0.3, a jingle was).
    Asked first, the sensitive detector would stretch regions of longer speech over
    breaths and noise where Praat finds spurious pitch. Empty for sounds that are not speech.
    A region that runs over a ten-minute boundary of the detector's parts is cut in two.
    """
    from analysis.speech.whisper import VadSettings  # onnxruntime, only when measuring

    if not np.any(waveform):  # digital silence: nothing to ask the detector
        return np.empty((0, 2))
    regions = _in_parts(waveform, VadSettings())
    if len(regions):
        return regions
    sensitive = VadSettings(threshold=VAD_THRESHOLD, min_speech_ms=VAD_MIN_SPEECH_MS)
    return _in_parts(waveform, sensitive)


def _in_parts(waveform: np.ndarray, settings) -> np.ndarray:
    """Silero's regions (s), ten minutes of 16 kHz sound at a time: only one part is ever
    copied to float32 for it, however long the recording."""
    from analysis.speech.whisper import SAMPLE_RATE, speech_regions

    step = round(VAD_PART_S * SAMPLE_RATE)
    found = [
        speech_regions(np.asarray(waveform[first : first + step], np.float32), settings)
        + first / SAMPLE_RATE
        for first in range(0, len(waveform), step)
    ]
    return np.concatenate(found)


def moving_regions(regions: np.ndarray, times: np.ndarray, f0_hz: np.ndarray) -> np.ndarray:
    """The ``regions`` ((n, 2), s) whose pitch moves as a voice's does.

    Parameters
    ----------
    regions : np.ndarray
        (n, 2) start and end (s) of the detector's speech.
    times, f0_hz : np.ndarray
        A first pass's frame times (s) and F0 (Hz, NaN where unvoiced).

    Returns
    -------
    np.ndarray
        (m, 2): the regions whose voiced F0 spans at least :data:`MIN_MOVEMENT_ST`
        semitones from its 10th to its 90th percentile, and those with fewer than
        :data:`MOVEMENT_FRAMES` voiced frames.
    """
    regions = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
    keep = np.ones(len(regions), dtype=bool)
    for i, (start, end) in enumerate(regions):
        f0 = f0_hz[(times >= start) & (times <= end)]
        f0 = f0[np.isfinite(f0)]
        if len(f0) >= MOVEMENT_FRAMES:
            low, high = np.percentile(f0, [10, 90])
            keep[i] = 12 * np.log2(high / low) >= MIN_MOVEMENT_ST
    return regions[keep]


def inside(times: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Whether each of ``times`` (s) lies in one of ``regions`` ((n, 2) start, end in s)."""
    regions = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
    if len(regions) == 0:
        return np.zeros(len(times), dtype=bool)
    # Regions are sorted and disjoint: the last one starting at or before each time.
    index = np.searchsorted(regions[:, 0], times, side="right") - 1
    found = index >= 0
    within = np.zeros(len(times), dtype=bool)
    within[found] = times[found] <= regions[index[found], 1]
    return within


def clip_regions(regions: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """The parts of ``regions`` ((n, 2), s) that lie in ``[start_s, end_s]``."""
    regions = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
    clipped = np.clip(regions, start_s, end_s)
    return clipped[clipped[:, 1] > clipped[:, 0]]


def adapted_range(f0_hz: np.ndarray, floor_hz: float, ceiling_hz: float) -> tuple[float, float]:
    """The pitch floor and ceiling (Hz) for a second pass, from a first pass's F0 (Hz).

    Parameters
    ----------
    f0_hz : np.ndarray
        The first pass's F0 on voiced speech frames (NaN elsewhere is ignored).
    floor_hz, ceiling_hz : float
        The first pass's range, returned unchanged when too few frames are voiced.

    Returns
    -------
    floor_hz, ceiling_hz : float
        0.75 × Q1 and 1.5 × Q3 of ``f0_hz`` (De Looze & Hirst 2008), rounded to 1 Hz.
    """
    voiced = f0_hz[np.isfinite(f0_hz)]
    if len(voiced) < MIN_VOICED_FRAMES:
        return floor_hz, ceiling_hz
    q1, q3 = np.percentile(voiced, [25, 75])
    return float(round(FLOOR_FACTOR * q1)), float(round(CEILING_FACTOR * q3))


def robust_range(f0_hz: np.ndarray) -> tuple[float, float] | None:
    """The 5th and 95th percentiles of the voiced F0 (Hz); None if nothing is voiced."""
    voiced = f0_hz[np.isfinite(f0_hz)]
    if len(voiced) == 0:
        return None
    low, high = np.percentile(voiced, ROBUST_PERCENTILES)
    return float(low), float(high)
