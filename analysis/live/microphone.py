"""The live microphone, one WebRTC audio frame at a time: the last minutes of sound, their
level, a scrolling spectrogram and YAMNet's tags for the last second.

Streamlit-free: :class:`LiveAudio` holds one browser session's sound. The WebRTC worker
thread appends frames while the page's script thread reads; a lock guards what both touch.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace

import av
import numpy as np

from analysis.audio.resample import mono_at
from analysis.audio.spectrogram import Spectrogram, STFTParams, spectrogram
from analysis.audio.tagging import FRAME_SAMPLES, SAMPLE_RATE, Tag, Tagging, YamNet
from analysis.errors import InputError


@dataclass(frozen=True)
class Level:
    """Loudness of the last moment of sound, dB re full scale (a full-scale sine's RMS is -3)."""

    rms_db: float
    peak_db: float


SILENCE_DB = -120.0


def _db(amplitude: float) -> float:
    return max(SILENCE_DB, 20.0 * float(np.log10(max(amplitude, 1e-6))))


class LiveAudio:
    """One session's microphone: the last minutes of sound, mono, at the stream's rate.

    Parameters
    ----------
    keep_s : float
        Seconds kept (the recording offered for download; older sound is forgotten).
    """

    def __init__(self, keep_s: float = 120.0) -> None:
        if keep_s <= 0:
            raise InputError("The microphone must keep a positive number of seconds.")
        self._lock = threading.Lock()
        self._keep_s = keep_s
        self._chunks: deque[np.ndarray] = deque()
        self._kept = 0  # samples in _chunks
        self._heard = 0  # samples since the start
        self.sample_rate = 0
        self._resampler: av.AudioResampler | None = None

    def clear(self) -> None:
        """A new stream began: forget what was heard before."""
        with self._lock:
            self._chunks.clear()
            self._kept = self._heard = 0

    def add(self, mono: np.ndarray, sample_rate: int) -> None:
        """Append mono float samples in [-1, 1] at ``sample_rate`` Hz."""
        mono = np.asarray(mono, dtype=np.float32).reshape(-1)
        with self._lock:
            if sample_rate != self.sample_rate:  # a new stream: start over
                self._chunks.clear()
                self._kept = self._heard = 0
                self.sample_rate = sample_rate
            self._chunks.append(mono)
            self._kept += len(mono)
            self._heard += len(mono)
            limit = round(self._keep_s * sample_rate)
            while self._kept - len(self._chunks[0]) >= limit:
                self._kept -= len(self._chunks.popleft())

    def add_frames(self, frames: list[av.AudioFrame]) -> None:
        """Mix WebRTC audio frames (any layout and sample format) to mono and append them."""
        for frame in frames:
            if self._resampler is None or self._resampler.rate != frame.sample_rate:
                # Planar float, channels kept: FFmpeg's own downmix would add the channels
                # at -3 dB each, lifting a stereo copy of one signal 3 dB above it.
                self._resampler = av.AudioResampler(format="fltp", rate=frame.sample_rate)
            for planar in self._resampler.resample(frame):
                self.add(planar.to_ndarray().mean(axis=0), planar.sample_rate)

    def frame_callback(self, frame: av.AudioFrame) -> None:
        """streamlit-webrtc's audio sink callback: every frame, in order, none dropped."""
        self.add_frames([frame])

    def last(self, seconds: float) -> np.ndarray:
        """The last ``seconds`` of sound (fewer at the start), float32 mono."""
        with self._lock:
            chunks, rate = list(self._chunks), self.sample_rate
        if not chunks:
            return np.zeros(0, np.float32)
        return np.concatenate(chunks)[-max(1, round(seconds * rate)) :]

    @property
    def heard_s(self) -> float:
        """Seconds of sound received since the stream started."""
        with self._lock:
            return self._heard / self.sample_rate if self.sample_rate else 0.0

    def level(self, seconds: float = 0.1) -> Level:
        """RMS and peak level of the last ``seconds``."""
        samples = self.last(seconds)
        if not samples.size:
            return Level(SILENCE_DB, SILENCE_DB)
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        return Level(_db(rms), _db(float(np.abs(samples).max())))


def rolling_spectrogram(
    samples: np.ndarray, sample_rate: int, window_s: float = 10.0
) -> Spectrogram:
    """Log-frequency spectrogram of the last ``window_s`` s, times in s before now (≤ 0).

    Shorter input is padded with silence at the start, so the picture does not stretch
    while the first seconds arrive. FFT of about 43 ms, hop of 10 ms.
    """
    if sample_rate <= 0:
        raise InputError(f"The sample rate must be positive, not {sample_rate} Hz.")
    length = round(window_s * sample_rate)
    samples = np.asarray(samples, dtype=np.float32)[-length:]
    padded = np.zeros(length, np.float32)
    padded[length - len(samples) :] = samples
    n_fft = 1 << round(np.log2(sample_rate * 0.043))
    params = STFTParams(n_fft=n_fft, hop_length=max(1, sample_rate // 100))
    spec = spectrogram(padded, sample_rate, params, scale="log", max_columns=600, max_rows=256)
    return replace(spec, times=spec.times - window_s)


def tag_last_second(samples: np.ndarray, sample_rate: int, yamnet: YamNet, k: int = 3) -> list[Tag]:
    """YAMNet's ``k`` best sound-event tags for the last 0.975 s of ``samples``.

    Returns no tags when less than that has been heard yet.
    """
    waveform = mono_at(samples[-round(sample_rate * 1.0) :], sample_rate, SAMPLE_RATE, what="tag")
    if len(waveform) < FRAME_SAMPLES:
        return []
    scores = yamnet.score_frames(waveform[-FRAME_SAMPLES:][np.newaxis])
    end = FRAME_SAMPLES / SAMPLE_RATE
    tagging = Tagging(scores, np.zeros(1), np.full(1, end), yamnet.class_names)
    return tagging.top(k)
