"""Sound-event tagging with YAMNet (AudioSet, 521 classes).

The model scores 0.975 s windows of mono 16 kHz audio. :func:`tag_audio` resamples
a recording once, slides that window with a 0.48 s hop, scores every frame and
returns a :class:`Tagging`: one row of class scores per frame, with its times.
Overall labels are the mean score over frames; a range of the recording is a
subset of frames (:meth:`Tagging.between`).

Example
-------
>>> yamnet = load_yamnet()  # doctest: +SKIP
>>> tagging = tag_audio(samples, sample_rate, yamnet)  # doctest: +SKIP
>>> tagging.top(3)  # doctest: +SKIP
[Tag(label='Speech', score=0.87), ...]
"""

from __future__ import annotations

import csv
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.audio.resample import mono_at
from analysis.cores import usable_cores
from models.catalog import get_spec
from models.locate import MissingRuntimeError, resolve_files

SAMPLE_RATE = 16_000  # Hz, what YAMNet was trained on
FRAME_SAMPLES = 15_600  # 0.975 s at 16 kHz: the model's fixed input length
HOP_SAMPLES = 7_680  # 0.48 s at 16 kHz: YAMNet's own patch hop

Progress = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_total)`` while frames are scored."""


@dataclass(frozen=True)
class Tag:
    label: str
    score: float  # YAMNet's per-class sigmoid score in [0, 1]


@dataclass(frozen=True)
class Segment:
    start: float  # s
    end: float  # s
    labels: list[Tag]


@dataclass(frozen=True)
class Tagging:
    """YAMNet's class scores for every frame of one recording.

    Attributes
    ----------
    scores : np.ndarray
        float32 (frames, classes), each in [0, 1].
    starts, ends : np.ndarray
        Frame start and end times in seconds (ends clipped to the recording's end).
    class_names : tuple of str
        Display names, index-aligned with the score columns ("Speech", "Music", ...).
    """

    scores: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    class_names: tuple[str, ...]

    @property
    def centers(self) -> np.ndarray:
        """Frame centre times in seconds (the nominal 0.975 s window's middle)."""
        return self.starts + FRAME_SAMPLES / SAMPLE_RATE / 2

    def mean_scores(self) -> np.ndarray:
        """Mean score of each class over the frames, shape (classes,)."""
        return self.scores.mean(axis=0)

    def top(self, k: int = 5) -> list[Tag]:
        """The ``k`` classes with the highest mean score over frames, best first."""
        return _top_tags(self.mean_scores(), self.class_names, k)

    def segments(self, k: int = 3) -> list[Segment]:
        """One segment per frame with its ``k`` best classes."""
        return [
            Segment(float(start), float(end), _top_tags(row, self.class_names, k))
            for start, end, row in zip(self.starts, self.ends, self.scores, strict=True)
        ]

    def between(self, start_s: float, end_s: float) -> Tagging:
        """The frames whose centre lies in [start_s, end_s] s.

        A range shorter than the hop may hold no centre: then the frame centred
        nearest to the range's middle stands for it.
        """
        centers = self.centers
        keep = (centers >= start_s) & (centers <= end_s)
        if not keep.any():
            keep = np.zeros(len(centers), dtype=bool)
            keep[np.argmin(np.abs(centers - (start_s + end_s) / 2))] = True
        return Tagging(self.scores[keep], self.starts[keep], self.ends[keep], self.class_names)

    def to_dict(self, k: int = 5) -> dict:
        """``{"labels": [...], "segments": [{"start", "end", "labels"}]}`` for JSON output."""
        return {
            "labels": [_tag_dict(tag) for tag in self.top(k)],
            "segments": [
                {
                    "start": round(segment.start, 3),
                    "end": round(segment.end, 3),
                    "labels": [_tag_dict(tag) for tag in segment.labels],
                }
                for segment in self.segments(k)
            ],
        }


def _top_tags(scores: np.ndarray, class_names: tuple[str, ...], k: int) -> list[Tag]:
    order = np.argsort(scores)[::-1][:k]
    return [Tag(class_names[i], float(scores[i])) for i in order]


def _tag_dict(tag: Tag) -> dict:
    return {"label": tag.label, "score": round(tag.score, 4)}


def frame_count(n_samples: int) -> int:
    """Number of 0.975 s frames, 0.48 s apart, that cover ``n_samples`` at 16 kHz.

    A recording shorter than one frame still gets one (zero-padded) frame.
    """
    if n_samples <= FRAME_SAMPLES:
        return 1
    return 1 + math.ceil((n_samples - FRAME_SAMPLES) / HOP_SAMPLES)


def frame_times(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times (s) of each frame; ends are clipped to the recording's end."""
    starts = np.arange(frame_count(n_samples)) * HOP_SAMPLES / SAMPLE_RATE
    ends = np.minimum(starts + FRAME_SAMPLES / SAMPLE_RATE, n_samples / SAMPLE_RATE)
    return starts, ends


def frame_signal(waveform: np.ndarray) -> np.ndarray:
    """View of ``waveform`` (16 kHz, 1-D) as (frames, 15600), zero-padded at the end."""
    n_frames = frame_count(len(waveform))
    padded = np.zeros(FRAME_SAMPLES + (n_frames - 1) * HOP_SAMPLES, dtype=np.float32)
    padded[: len(waveform)] = waveform
    windows = np.lib.stride_tricks.sliding_window_view(padded, FRAME_SAMPLES)
    return windows[::HOP_SAMPLES]


def read_class_map(path: str | os.PathLike) -> tuple[str, ...]:
    """Display names from ``yamnet_class_map.csv`` (columns index, mid, display_name)."""
    with open(path, newline="", encoding="utf-8") as file:
        return tuple(row["display_name"] for row in csv.DictReader(file))


class YamNet:
    """A loaded YAMNet interpreter and its class names, safe to share between threads.

    A TFLite interpreter holds its input and output tensors itself, so one
    recording is scored at a time under a lock.
    """

    def __init__(
        self,
        model_path: str | os.PathLike,
        class_map_path: str | os.PathLike,
    ) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise MissingRuntimeError(
                "YAMNet needs the ai-edge-litert package, which is not installed. "
                "To get it, run `pip install ai-edge-litert`."
            ) from None
        self.class_names = read_class_map(class_map_path)
        self._interpreter = Interpreter(model_path=str(model_path), num_threads=usable_cores())
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        # Two outputs: the [1, 521] scores and a [96, 64] log-mel patch we don't use.
        (self._scores,) = (
            out["index"]
            for out in self._interpreter.get_output_details()
            if out["shape"][-1] == len(self.class_names)
        )
        self._lock = threading.Lock()

    def score_frames(self, frames: np.ndarray, progress: Progress | None = None) -> np.ndarray:
        """Class scores (frames, classes) for frames of shape (frames, 15600)."""
        total = len(frames)
        scores = np.empty((total, len(self.class_names)), dtype=np.float32)
        every = max(1, total // 50)  # ~50 progress updates: enough for a smooth bar
        with self._lock:
            for i, frame in enumerate(frames):
                self._interpreter.set_tensor(self._input, frame[np.newaxis])
                self._interpreter.invoke()
                scores[i] = self._interpreter.get_tensor(self._scores)[0]
                if progress is not None and ((i + 1) % every == 0 or i + 1 == total):
                    progress(i + 1, total)
        return scores


def load_yamnet() -> YamNet:
    """YAMNet from the model catalog's files.

    Raises
    ------
    MissingModelError
        If the model files are not found (the message says how to get them),
        or (as :class:`MissingRuntimeError`) if ai-edge-litert is not installed.
    """
    paths = resolve_files(get_spec("yamnet"))
    return YamNet(paths["model"], paths["class_map"])


def tag_audio(
    samples: np.ndarray,
    sample_rate: int,
    yamnet: YamNet,
    progress: Progress | None = None,
) -> Tagging:
    """Score every 0.975 s frame (0.48 s hop) of a recording with YAMNet.

    Parameters
    ----------
    samples : np.ndarray
        Audio in [-1, 1], 1-D (frames,) or 2-D (channels, frames), any sample rate.
    sample_rate : int
        Sampling rate of ``samples`` in Hz.
    yamnet : YamNet
        The loaded model (:func:`load_yamnet`).
    progress : callable, optional
        ``progress(frames_done, frames_total)``, called about 50 times.

    Returns
    -------
    Tagging
    """
    waveform = mono_at(samples, sample_rate, SAMPLE_RATE, what="tag")
    starts, ends = frame_times(len(waveform))
    scores = yamnet.score_frames(frame_signal(waveform), progress)
    return Tagging(scores, starts, ends, yamnet.class_names)
