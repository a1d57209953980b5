"""pYIN pitch of singing and instruments, with note names (librosa, imported on first use).

Praat's settings stay for speech (``analysis.speech.voice``); this is the musical one: a
range of C2–C6 by default, a 23 ms step, and each voiced frame named as the nearest note
of equal temperament at A4 = 440 Hz.

pYIN's cost is mostly its Viterbi pass over pitch states, so the signal is analysed at
11 025 Hz (enough for an F0 up to C6 and its first harmonics) on a 25-cent grid of states,
in blocks, which also lets a caller show progress and stop between them.

pYIN holds the GIL (its Viterbi pass in numba, a scipy distribution per frame), so threads
do not share it out. A sound of five minutes or more, on a machine with a second core, has
its later half of blocks analysed by a second Python process (``python -m
analysis.audio.pitch_track``, 3.5–5 s to start: librosa's imports and numba's cache),
started first so that it runs while the caller does other work (:func:`start_pitch`).
Both halves use the same blocks as one process would, so the track is the same.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from analysis.audio.resample import mono_at
from analysis.cores import usable_cores

_log = logging.getLogger(__name__)

PITCH_RATE = 11_025  # Hz: pYIN's input rate
PITCH_HOP = 256  # samples at PITCH_RATE: a frame every 23.2 ms
_FRAME = 1024  # samples at PITCH_RATE: 93 ms, two periods of C2
_BLOCK_FRAMES = 430  # frames at a time (10 s): its Viterbi pass holds the GIL throughout
_BLOCK = _BLOCK_FRAMES * PITCH_HOP  # samples at PITCH_RATE
# Five minutes or more: below that, the second process's start costs more than it saves
# (music features of a real song, 2 cores: 4 minutes 7.7 s shared against 6.1 s alone,
# 5 minutes 8.0 s against 8.9 s, 7 minutes 9.2 s against 14.1 s).
_SHARED_FROM_BLOCKS = 30


@dataclass(frozen=True)
class PitchSettings:
    """The range searched and the resolution of pYIN's states.

    Attributes
    ----------
    floor_hz, ceiling_hz : float
        Lowest and highest F0 searched, Hz (C2 and C6: bass voice to soprano).
    resolution : float
        Spacing of pYIN's pitch states, in semitones (0.25: a quarter tone).
    """

    floor_hz: float = 65.406
    ceiling_hz: float = 1046.5
    resolution: float = 0.25


@dataclass(frozen=True)
class PitchTrack:
    """F0 over time.

    Attributes
    ----------
    times_s : np.ndarray
        float64, frame centres in seconds.
    f0_hz : np.ndarray
        float64, Hz; NaN where no pitch is heard (unvoiced, silence, noise).
    voiced_probability : np.ndarray
        float32 in [0, 1], pYIN's probability that the frame has a pitch.
    """

    times_s: np.ndarray
    f0_hz: np.ndarray
    voiced_probability: np.ndarray

    @cached_property  # computed once: the page reads it on every run
    def notes(self) -> list[str | None]:
        """The nearest note of each frame (e.g. ``"A4"``), None where unvoiced."""
        return note_names(self.f0_hz)

    def shifted(self, offset_s: float) -> PitchTrack:
        """The same track with ``offset_s`` added to its times."""
        return PitchTrack(self.times_s + offset_s, self.f0_hz, self.voiced_probability)


def note_names(f0_hz: np.ndarray) -> list[str | None]:
    """Nearest equal-tempered note name (A4 = 440 Hz, sharps as ``#``) of each frequency;
    None for NaN or non-positive values."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    valid = np.isfinite(f0) & (f0 > 0)
    midi = np.zeros(f0.shape, dtype=int)
    midi[valid] = np.round(69 + 12 * np.log2(f0[valid] / 440.0)).astype(int)
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return [
        f"{names[m % 12]}{m // 12 - 1}" if ok else None
        for m, ok in zip(midi.tolist(), valid.tolist(), strict=True)
    ]


def _block_count(samples: int) -> int:
    """How many blocks (the steps :func:`track_pitch` reports) ``samples`` samples at
    :data:`PITCH_RATE` make."""
    return max(1, -(-samples // _BLOCK))


def _pyin_blocks(
    signal: np.ndarray,
    settings: PitchSettings,
    first: int,
    stop: int,
    on_block: Callable[[], None],
) -> tuple[np.ndarray, np.ndarray]:
    """pYIN's F0 and voiced probability over blocks ``first`` to ``stop - 1`` of a signal
    at :data:`PITCH_RATE`, calling ``on_block()`` after each."""
    import librosa

    last = _block_count(len(signal)) - 1
    f0_parts, prob_parts = [np.zeros(0)], [np.zeros(0)]
    for index in range(first, stop):
        part = signal[index * _BLOCK : (index + 1) * _BLOCK]
        f0, _, probability = librosa.pyin(
            np.ascontiguousarray(part),
            fmin=settings.floor_hz,
            fmax=settings.ceiling_hz,
            sr=PITCH_RATE,
            frame_length=_FRAME,
            hop_length=PITCH_HOP,
            resolution=settings.resolution,
        )
        # Each block's last frame (centred on its edge) is the next block's first.
        keep = len(f0) if index == last else _BLOCK_FRAMES
        f0_parts.append(f0[:keep])
        prob_parts.append(probability[:keep])
        on_block()
    return np.concatenate(f0_parts), np.concatenate(prob_parts)


class _Helper:
    """A second process analysing blocks ``first`` to the end; it prints a line per block.

    If it cannot start or fails, :meth:`result` says so with None and the caller analyses
    those blocks itself.
    """

    def __init__(self, signal: np.ndarray, settings: PitchSettings, first: int) -> None:
        self.first = first
        self.done = 0  # blocks finished, counted from the process's lines
        self._folder = tempfile.TemporaryDirectory(prefix="percept-pitch-")
        folder = Path(self._folder.name)
        np.save(folder / "signal.npy", signal)
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH", "")
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",  # one core for it, the other for the caller
            PYTHONPATH=package_root + (os.pathsep + path if path else ""),
        )
        command = [sys.executable, "-m", __name__, str(folder), json.dumps(asdict(settings))]
        command.append(str(first))
        try:
            self._process: subprocess.Popen | None = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
            )
        except OSError as error:
            _log.warning("pitch: no second process (%s); analysing in this one", error)
            self._process = None
            return
        self._reader = threading.Thread(target=self._count, daemon=True, name="pitch-helper")
        self._reader.start()

    def _count(self) -> None:
        for _ in self._process.stdout:
            self.done += 1

    def wait(self, timeout_s: float) -> bool:
        """Whether the process has ended, waiting at most ``timeout_s`` seconds."""
        if self._process is None:
            return True
        self._reader.join(timeout_s)
        return not self._reader.is_alive()

    def result(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The ended process's F0 and probability arrays; None if it failed."""
        if self._process is None:
            return None
        if self._process.wait() != 0:
            _log.warning("pitch: the second process failed (exit %s)", self._process.returncode)
            return None
        try:
            with np.load(Path(self._folder.name) / "pitch.npz") as data:
                return data["f0"], data["probability"]
        except (OSError, KeyError, ValueError) as error:
            _log.warning("pitch: the second process left no result (%s)", error)
            return None

    def close(self) -> None:
        """Stop the process if it still runs and delete its files."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            self._reader.join()  # it reads to the end of the closed pipe
            self._process.stdout.close()
        self._folder.cleanup()


class PendingPitch:
    """pYIN of a signal, under way in a second process for its later half when worth it.

    Made by :func:`start_pitch`; :meth:`finish` analyses the rest and returns the track.
    Use it as a context manager so that the second process is stopped if the caller
    stops first.
    """

    def __init__(self, signal: np.ndarray, settings: PitchSettings) -> None:
        self._signal = signal
        self._settings = settings
        self.blocks = _block_count(len(signal))
        shared = self.blocks >= _SHARED_FROM_BLOCKS and usable_cores() >= 2
        self._helper = _Helper(signal, settings, self.blocks // 2) if shared else None

    def __enter__(self) -> PendingPitch:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the second process, if any."""
        if self._helper is not None:
            self._helper.close()

    def finish(self, progress: Callable[[float, float], None] | None = None) -> PitchTrack:
        """The pitch track; ``progress(done, total)`` in blocks after each, which may raise
        to stop (the second process is then stopped too)."""
        helper = self._helper
        own = self.blocks if helper is None else helper.first
        done = 0

        def on_block() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done + (helper.done if helper else 0), self.blocks)

        try:
            f0, probability = _pyin_blocks(self._signal, self._settings, 0, own, on_block)
            if helper is not None:
                reported = done + helper.done
                while not helper.wait(0.25):
                    if progress is not None and done + helper.done > reported:
                        reported = done + helper.done
                        progress(reported, self.blocks)
                rest = helper.result()
                if rest is None:  # the second process failed: analyse its blocks here
                    helper.done = 0
                    rest = _pyin_blocks(self._signal, self._settings, own, self.blocks, on_block)
                elif progress is not None:
                    progress(self.blocks, self.blocks)
                f0 = np.concatenate([f0, rest[0]])
                probability = np.concatenate([probability, rest[1]])
        finally:
            self.close()
        frames = 1 + len(self._signal) // PITCH_HOP
        f0, probability = f0[:frames], probability[:frames].astype(np.float32)
        times = np.arange(len(f0)) * (PITCH_HOP / PITCH_RATE)
        return PitchTrack(times, f0.astype(np.float64), probability)


def start_pitch(
    mono: np.ndarray, sample_rate: int, settings: PitchSettings = PitchSettings()
) -> PendingPitch:
    """Start pYIN on a mono signal: a sound of five minutes or more has its later half begun
    in a second process at once. See :func:`track_pitch` for the parameters."""
    if not 0 < settings.floor_hz < settings.ceiling_hz <= PITCH_RATE / 4:
        raise ValueError(f"bad pitch range {settings.floor_hz}–{settings.ceiling_hz} Hz")
    signal = mono_at(np.asarray(mono, dtype=np.float32), sample_rate, PITCH_RATE)
    return PendingPitch(signal, settings)


def track_pitch(
    mono: np.ndarray,
    sample_rate: int,
    settings: PitchSettings = PitchSettings(),
    progress: Callable[[float, float], None] | None = None,
) -> PitchTrack:
    """pYIN F0 of a mono signal.

    Parameters
    ----------
    mono : np.ndarray
        1-D float samples in [-1, 1].
    sample_rate : int
        Hz.
    settings : PitchSettings
        Range and resolution.
    progress : callable, optional
        ``progress(done, total)`` in blocks after each block; it may raise to stop.

    Returns
    -------
    PitchTrack
        A frame every :data:`PITCH_HOP` / :data:`PITCH_RATE` s from 0.
    """
    with start_pitch(mono, sample_rate, settings) as pending:
        return pending.finish(progress)


def _serve(folder: Path, settings: PitchSettings, first: int) -> None:
    """The second process: blocks ``first`` to the end of ``folder/signal.npy`` into
    ``folder/pitch.npz``, a line on stdout per block."""
    signal = np.load(folder / "signal.npy", mmap_mode="r")

    def on_block() -> None:
        print(1, flush=True)

    f0, probability = _pyin_blocks(signal, settings, first, _block_count(len(signal)), on_block)
    np.savez(folder / "pitch.npz", f0=f0, probability=probability)


if __name__ == "__main__":
    _serve(Path(sys.argv[1]), PitchSettings(**json.loads(sys.argv[2])), int(sys.argv[3]))
