"""What a video analysis reports while it runs and gives when it ends, and how its annotated
video is drawn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.video.io import VideoInfo
from analysis.video.regions import Line, Zone
from analysis.video.tracking import DEFAULT_RULES, Tracking, TrackRules
from analysis.vision.detections import DetectionFilter, Detections

Progress = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_expected)`` during the analysis."""

PREVIEW_EVERY_S = 1.0
"""Wall-clock time between two previews of the pass, s."""


@dataclass(frozen=True)
class PassStatus:
    """How an analysis under way is going, with its latest drawn frame (for a live preview).

    Attributes
    ----------
    done, expected : int
        Analysed frames so far, and expected in all.
    fps : float
        Analysed frames per second of wall-clock time so far.
    left_s : float
        Estimated wall-clock time to the end, s.
    time_s : float
        Video time of ``frame``, s.
    frame : np.ndarray
        The latest frame drawn with its confirmed objects, lines and zones, RGB uint8, at the
        output size (``RenderSettings.max_side``).
    counts : dict
        Confirmed objects per label so far.
    """

    done: int
    expected: int
    fps: float
    left_s: float
    time_s: float
    frame: np.ndarray
    counts: dict[str, int]


Preview = Callable[[PassStatus], None]
"""Called about every :data:`PREVIEW_EVERY_S` from the pass's drawing thread."""


@dataclass(frozen=True)
class VideoAnalysis:
    """One pass of a detector over a video: each analysed frame's raw candidates and times.

    Attributes
    ----------
    info : VideoInfo
    model : str
        Catalog name of the detector.
    stride : int
        Every ``stride``-th frame was analysed.
    frame_indices : np.ndarray
        (K,) int, stream positions of the analysed frames.
    times : np.ndarray
        (K,) float64 s, their timestamps.
    candidates : list of Detections
        Raw candidates of each analysed frame (filter with the controls' settings).
    timings_ms : dict
        Time in each stage, ms, summed over frames ("decode", "inference", "tracking",
        "annotate", "encode") and the wall-clock "total" (stages overlap).
    tracking : Tracking
        Confirmed tracks for the settings the pass ran with, ``params`` and ``rules``.
    params : DetectionFilter
    lines, zones : tuple of Line and Zone
        Drawn on the annotated video with their counts (count them with
        :func:`~analysis.video.regions.count_regions`).
    rules : TrackRules
    note : str or None
        Why fewer frames than expected were analysed (damaged file, stopped), if so.
    stopped : bool
        Whether the pass was stopped before the end of the video.
    soundtrack : (samples, rate) or None
        The sound heard during the pass, mono float32 (1, n) at ``rate`` Hz, when asked for
        and the video has sound.
    """

    info: VideoInfo
    model: str
    stride: int
    frame_indices: np.ndarray
    times: np.ndarray
    candidates: list[Detections]
    timings_ms: dict[str, float]
    tracking: Tracking
    params: DetectionFilter
    lines: tuple[Line, ...] = ()
    zones: tuple[Zone, ...] = ()
    rules: TrackRules = DEFAULT_RULES
    note: str | None = None
    stopped: bool = False
    soundtrack: tuple[np.ndarray, int] | None = None

    @property
    def frame_rate(self) -> float:
        """Analysed frames per second."""
        return self.info.fps / self.stride

    @property
    def end_s(self) -> float:
        """End of the analysed part, s."""
        if not len(self.times):
            return 0.0
        return max(float(self.times[-1]) + 1.0 / self.info.fps, self.info.duration_s)


@dataclass(frozen=True)
class RenderSettings:
    """How the annotated video is drawn and encoded."""

    max_side: int | None = None  # longest side of the output, px (None: the video's size)
    crf: int = 26


DEFAULT_RENDER = RenderSettings()


def output_size(info: VideoInfo, max_side: int | None) -> tuple[tuple[int, int], float]:
    scale = 1.0 if not max_side else min(1.0, max_side / max(info.width, info.height))
    return (max(2, round(info.width * scale)), max(2, round(info.height * scale))), scale
