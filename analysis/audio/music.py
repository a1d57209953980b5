"""What a musician reads in a sound: tempo and beats, onsets, chroma, key, chords and pitch.

Built on librosa (imported on first use: 0.7 s and numba). :func:`analyse_music` is the one
entry point; the page, the ``features`` command and the benchmark call it. Each answer a
person can check by ear says how sure it is: :attr:`Music.tempo_sure` (is there a clear,
steady beat?) and :attr:`Key.sure <analysis.audio.harmony.Key.sure>`.

Rates: the signal is mixed to mono at 22 050 Hz. Onsets and beats use a 1024-sample window
every 256 samples (11.6 ms, so a beat lands within about 15 ms of a click); the chroma a
4096-sample window every 512 (a semitone apart even at C3); pitch its own rate
(:mod:`analysis.audio.pitch_track`).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from analysis.audio.harmony import Chord, Key, chord_segments, estimate_key
from analysis.audio.pitch_track import PitchSettings, PitchTrack, start_pitch
from analysis.audio.resample import mono_at

RATE = 22_050  # Hz: librosa's default, ample for rhythm and harmony
ONSET_HOP, ONSET_FFT = 256, 1024
CHROMA_HOP, CHROMA_FFT = 512, 4096
# Below this, the onsets are not periodic enough for a tempo worth printing (see beat_clarity):
# speech reads 0–0.22, songs with drums 0.3–0.65, their quiet passages less.
CLEAR_BEAT = 0.25
MIN_BEATS = 4  # fewer tracked beats than this is no tempo
STEPS = ("beats", "harmony", "pitch")  # what progress counts, in this order


@dataclass(frozen=True)
class MusicSettings:
    """What :func:`analyse_music` computes and how.

    Attributes
    ----------
    pitch : PitchSettings or None
        pYIN's range and resolution; None skips pitch (the slowest part).
    """

    pitch: PitchSettings | None = field(default_factory=PitchSettings)


@dataclass(frozen=True)
class Music:
    """The musical features of a stretch of sound; times in seconds from the file's start.

    Attributes
    ----------
    start_s, end_s : float
        The stretch analysed.
    tempo_bpm : float
        Beats per minute (NaN when no beat was tracked); print it only if :attr:`tempo_sure`.
    beat_clarity : float
        0–1: how periodic the onsets are at the beat period (a click track is near 1,
        noise or speech below :data:`CLEAR_BEAT`).
    beats_s, onsets_s : np.ndarray
        float64 times of the tracked beats and of the detected note onsets.
    chroma : np.ndarray
        float32, shape ``(12, frames)``, each frame scaled to a maximum of 1 (C first).
    chroma_times_s : np.ndarray
        float64 centre of each chroma frame.
    key : Key
        Estimated key, its confidence and runner-up.
    chords : list of Chord
        Triads and power chords per beat (per half second without a clear beat), merged.
    pitch : PitchTrack or None
        pYIN F0 with note names; None if not asked for.
    timings_ms : dict
        Milliseconds per step, and ``"total"``.
    """

    start_s: float
    end_s: float
    tempo_bpm: float
    beat_clarity: float
    beats_s: np.ndarray
    onsets_s: np.ndarray
    chroma: np.ndarray
    chroma_times_s: np.ndarray
    key: Key
    chords: list[Chord]
    pitch: PitchTrack | None
    timings_ms: dict[str, float]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def tempo_sure(self) -> bool:
        """Whether there is a clear, steady beat: enough beats, periodic onsets."""
        return (
            len(self.beats_s) >= MIN_BEATS
            and np.isfinite(self.tempo_bpm)
            and self.beat_clarity >= CLEAR_BEAT
        )

    def shifted(self, offset_s: float) -> Music:
        """The same features with ``offset_s`` (s) added to every time: for a range that
        starts there."""
        return replace(
            self,
            start_s=self.start_s + offset_s,
            end_s=self.end_s + offset_s,
            beats_s=self.beats_s + offset_s,
            onsets_s=self.onsets_s + offset_s,
            chroma_times_s=self.chroma_times_s + offset_s,
            chords=[Chord(c.start_s + offset_s, c.end_s + offset_s, c.name) for c in self.chords],
            pitch=None if self.pitch is None else self.pitch.shifted(offset_s),
        )

    def to_dict(self) -> dict:
        """JSON-ready: the ``features`` command's output (see its ``--help``)."""
        pitch = None
        if self.pitch is not None:
            f0 = self.pitch.f0_hz
            pitch = {
                "times_s": _rounded(self.pitch.times_s),
                "f0_hz": [None if np.isnan(v) else round(float(v), 2) for v in f0],
                "notes": self.pitch.notes,
            }
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "duration_s": round(self.duration_s, 3),
            "tempo_bpm": None if np.isnan(self.tempo_bpm) else round(self.tempo_bpm, 2),
            "tempo_sure": bool(self.tempo_sure),
            "beat_clarity": round(self.beat_clarity, 3),
            "beats_s": _rounded(self.beats_s),
            "onsets_s": _rounded(self.onsets_s),
            "key": self.key.name,
            "key_confidence": round(self.key.confidence, 3),
            "key_sure": bool(self.key.sure),
            "key_runner_up": self.key.runner_up,
            "chords": [
                {"start_s": round(c.start_s, 3), "end_s": round(c.end_s, 3), "chord": c.name}
                for c in self.chords
            ],
            "pitch": pitch,
            "timings_ms": self.timings_ms,
        }


def _rounded(times: np.ndarray) -> list[float]:
    return [round(float(t), 3) for t in times]


def tempo_from_beats(beats_s: np.ndarray) -> float:
    """Tempo (BPM) from beat times: 60 over the mean of the middle half of the intervals.

    Finer than the tempogram's lag grid (at 11.6 ms frames 120 BPM falls between two lags),
    and robust to a skipped or doubled beat. NaN for fewer than two beats.
    """
    intervals = np.sort(np.diff(np.asarray(beats_s, dtype=np.float64)))
    if len(intervals) == 0:
        return float("nan")
    quarter = len(intervals) // 4
    return float(60.0 / intervals[quarter : len(intervals) - quarter].mean())


def beat_clarity(onset_envelope: np.ndarray, period_frames: float) -> float:
    """How periodic an onset envelope is at a period: its normalised autocorrelation there.

    Parameters
    ----------
    onset_envelope : np.ndarray
        Onset strength per frame.
    period_frames : float
        The beat period in frames (fractional: interpolated).

    Returns
    -------
    float
        In [0, 1]; 0 for a flat envelope or a period longer than a third of it.
    """
    envelope = np.asarray(onset_envelope, dtype=np.float64)
    envelope = envelope - envelope.mean()
    energy = float(envelope @ envelope)
    if energy == 0 or not np.isfinite(period_frames) or period_frames * 3 > len(envelope):
        return 0.0
    low = int(np.floor(period_frames))
    weights = (1 - (period_frames - low), period_frames - low)
    correlation = sum(
        w * float(envelope[: len(envelope) - lag] @ envelope[lag:])
        for w, lag in zip(weights, (low, low + 1), strict=True)
    )
    return float(np.clip(correlation / energy, 0.0, 1.0))


def _rhythm(y: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Tempo (BPM), beat clarity, beat and onset times (s) of a mono signal at :data:`RATE`."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=ONSET_FFT, hop_length=ONSET_HOP)) ** 2
    mel = librosa.feature.melspectrogram(S=power, sr=RATE)
    envelope = librosa.onset.onset_strength(
        S=librosa.power_to_db(mel), sr=RATE, hop_length=ONSET_HOP, n_fft=ONSET_FFT
    )
    # The tempogram at half the frame rate: a quarter of the cost, and the tracker below
    # finds the exact period from the onsets themselves (see tempo_from_beats).
    coarse = envelope[: len(envelope) // 2 * 2].reshape(-1, 2).max(axis=1)
    guess = librosa.feature.tempo(onset_envelope=coarse, sr=RATE, hop_length=2 * ONSET_HOP)
    _, beat_frames = librosa.beat.beat_track(
        onset_envelope=envelope, sr=RATE, hop_length=ONSET_HOP, bpm=float(guess[0])
    )
    beats = librosa.frames_to_time(beat_frames, sr=RATE, hop_length=ONSET_HOP)
    onsets = librosa.onset.onset_detect(
        onset_envelope=envelope, sr=RATE, hop_length=ONSET_HOP, units="time"
    )
    tempo = tempo_from_beats(beats) if len(beats) >= 2 else float("nan")
    clarity = beat_clarity(envelope, 60.0 / tempo * RATE / ONSET_HOP) if tempo > 0 else 0.0
    return tempo, clarity, beats, onsets


def _chroma(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energy chroma (12, frames) of a mono signal at :data:`RATE`, tuned to the signal,
    and the frames' centre times (s)."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=CHROMA_FFT, hop_length=CHROMA_HOP)) ** 2
    # Tuning from every 16th frame: as good as from all of them for a steady tuning, 16x less.
    sampled = np.sqrt(power[:, ::16])
    tuning = librosa.estimate_tuning(S=sampled, sr=RATE, n_fft=CHROMA_FFT) if sampled.any() else 0
    chroma = librosa.feature.chroma_stft(
        S=power, sr=RATE, n_fft=CHROMA_FFT, tuning=tuning, norm=None
    )
    times = librosa.frames_to_time(np.arange(chroma.shape[1]), sr=RATE, hop_length=CHROMA_HOP)
    return chroma, times


def _chord_spans(
    chroma: np.ndarray, times: np.ndarray, beats_s: np.ndarray, clear: bool, end_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """The median chroma between beats (or every half second without a clear beat), and the
    spans' edges (s).

    ``chroma`` is scaled per frame: a chord's decaying tail counts as much as the next
    one's loud attack, whose window reaches back into the span before it.
    """
    if clear:
        edges = np.unique(np.concatenate(([0.0], beats_s, [end_s])))
    else:
        edges = np.append(np.arange(0.0, end_s, 0.5), end_s)
    edges = edges[np.concatenate(([True], np.diff(edges) > 1e-3))]
    bounds = np.searchsorted(times, edges)
    spans = np.zeros((12, len(edges) - 1))
    for i, (low, high) in enumerate(itertools.pairwise(bounds)):
        if high > low:
            spans[:, i] = np.median(chroma[:, low:high], axis=1)
    return spans, edges


def _harmony(
    y: np.ndarray, beats_s: np.ndarray, clarity: float, end_s: float
) -> tuple[np.ndarray, np.ndarray, Key, list[Chord]]:
    """The chroma (scaled per frame) and its times, the key and the chords of a mono signal
    at :data:`RATE`, the chords per beat when the beat is clear."""
    chroma, chroma_times = _chroma(y)
    key = estimate_key(chroma)
    peak = chroma.max(axis=0, keepdims=True)
    scaled = (chroma / np.where(peak > 0, peak, 1.0)).astype(np.float32)
    clear = len(beats_s) >= MIN_BEATS and clarity >= CLEAR_BEAT
    spans, edges = _chord_spans(scaled, chroma_times, beats_s, clear, end_s)
    return scaled, chroma_times, key, chord_segments(spans, edges)


def analyse_music(
    samples: np.ndarray,
    sample_rate: int,
    settings: MusicSettings = MusicSettings(),
    progress: Callable[[float, float], None] | None = None,
) -> Music:
    """Tempo, beats, onsets, chroma, key, chords and pitch of a sound.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D or ``(channels, frames)``; channels are mixed.
    sample_rate : int
        Hz.
    settings : MusicSettings
        Whether to track pitch, and in which range.
    progress : callable, optional
        ``progress(done, total)`` in steps (beats, harmony, then one per block of pitch);
        it may raise to stop the work between steps.

    Returns
    -------
    Music
        Times from the start of ``samples``; :meth:`Music.shifted` moves them.

    Raises
    ------
    InputError
        For empty audio or a bad sample rate.
    """
    report = progress or (lambda done, total: None)
    began = time.perf_counter()
    y = mono_at(samples, sample_rate, RATE, what="analyse")
    end_s = len(y) / RATE
    if len(y) < CHROMA_FFT:  # under 0.19 s: silence after it, rather than a shorter window
        y = np.pad(y, (0, CHROMA_FFT - len(y)))
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round((now - since) * 1000, 1)
        return now

    now = lap("resample", began)
    # Pitch first: on a long sound its later half starts now in a second process.
    with contextlib.ExitStack() as stack:
        pending = None
        if settings.pitch is not None:
            pending = stack.enter_context(start_pitch(y, RATE, settings.pitch))
        total = 2 + (0 if pending is None else pending.blocks)
        report(0, total)
        tempo, clarity, beats, onsets = _rhythm(y)
        now = lap("beats", now)
        report(1, total)
        scaled, chroma_times, key, chords = _harmony(y, beats, clarity, end_s)
        now = lap("harmony", now)
        report(2, total)
        pitch = None
        if pending is not None:
            pitch = pending.finish(progress=lambda done, _: report(2 + done, total))
            now = lap("pitch", now)
    timings["total"] = round((now - began) * 1000, 1)
    return Music(
        0.0,
        end_s,
        tempo,
        clarity,
        beats,
        onsets,
        scaled,
        chroma_times,
        key,
        chords,
        pitch,
        timings,
    )
