"""How long the stages of one analysis took, and the warm-run medians the page and CLI report.

A detector's run has three stages (preprocess, inference, postprocess); a pose run adds a
landmark run per person (:class:`PoseTimings`). :func:`timed_run` analyses a picture once,
then times a few more runs to report steady-state figures next to the first run's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

WARM_RUNS = 3
"""Runs timed after the first one, when they fit in :data:`WARM_BUDGET_MS`."""

WARM_BUDGET_MS = 1000.0
"""No repeated runs past this: a slow model is timed by fewer runs."""


def warm_up(analyse: Callable[[np.ndarray], object]) -> None:
    """Run ``analyse`` (a detector's ``detect``, ...) once on a small blank picture: a model's
    first run allocates and optimises, which belongs to its loading, not to a first result."""
    analyse(np.zeros((64, 64, 3), np.uint8))


def ms_since(start: float) -> float:
    """Milliseconds since ``start``, a ``time.perf_counter()`` reading."""
    return (time.perf_counter() - start) * 1000.0


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each stage of one detection."""

    preprocess: float
    inference: float
    postprocess: float

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.postprocess

    def as_dict(self) -> dict[str, float]:
        return {
            "preprocess": round(self.preprocess, 3),
            "inference": round(self.inference, 3),
            "postprocess": round(self.postprocess, 3),
            "total": round(self.total, 3),
        }


@dataclass(frozen=True)
class PoseTimings:
    """Milliseconds of one pose estimation: the detector, each person's landmark run, filtering.

    ``preprocess``, ``inference`` and ``postprocess`` sum the stages over every network run,
    so the result reads like a detector's timings; ``as_dict`` also lists each stage.
    """

    detector: Timings
    landmarks: tuple[Timings, ...]  # one per candidate person, in candidate order
    filtering: float = 0.0

    @property
    def preprocess(self) -> float:
        return self.detector.preprocess + sum(t.preprocess for t in self.landmarks)

    @property
    def inference(self) -> float:
        return self.detector.inference + sum(t.inference for t in self.landmarks)

    @property
    def postprocess(self) -> float:
        return self.detector.postprocess + sum(t.postprocess for t in self.landmarks)

    @property
    def total(self) -> float:
        return self.preprocess + self.inference + self.postprocess + self.filtering

    def as_dict(self) -> dict[str, object]:
        return {
            "preprocess": round(self.preprocess, 3),
            "inference": round(self.inference, 3),
            "postprocess": round(self.postprocess + self.filtering, 3),
            "total": round(self.total, 3),
            "detector": self.detector.as_dict(),
            "landmarks": [t.as_dict() for t in self.landmarks],
            "filtering": round(self.filtering, 3),
        }


def median_timings(runs: Sequence[Timings | PoseTimings]) -> Timings | PoseTimings:
    """Stage by stage medians of runs of one picture (pose runs: also person by person,
    as every run of one picture finds the same people)."""
    if isinstance(runs[0], PoseTimings):
        per_person = zip(*(t.landmarks for t in runs), strict=True)
        return PoseTimings(
            median_timings([t.detector for t in runs]),
            tuple(median_timings(list(stages)) for stages in per_person),
            statistics.median(t.filtering for t in runs),
        )
    return Timings(
        statistics.median(t.preprocess for t in runs),
        statistics.median(t.inference for t in runs),
        statistics.median(t.postprocess for t in runs),
    )


@dataclass(frozen=True)
class Run:
    """A network's raw result for one picture and how long it took.

    Attributes
    ----------
    raw : object
        What the analysis returned (raw candidates: filtering them needs no new run).
    first : Timings or PoseTimings
        The first run, with its one-off set-up costs.
    warm : Timings or PoseTimings
        Median of the warm runs (the first run when there were none).
    warm_runs : int
        How many warm runs were timed.
    """

    raw: object
    first: Timings | PoseTimings
    warm: Timings | PoseTimings
    warm_runs: int


def timed_run(
    analyse: Callable[[np.ndarray], tuple[object, Timings | PoseTimings]],
    rgb: np.ndarray,
    warm_runs: int = WARM_RUNS,
    budget_ms: float = WARM_BUDGET_MS,
) -> Run:
    """Analyse ``rgb`` once, then time up to ``warm_runs`` more runs while within ``budget_ms``
    of the start."""
    start = time.perf_counter()
    raw, first = analyse(rgb)
    warm = []
    while len(warm) < warm_runs and ms_since(start) < budget_ms:
        warm.append(analyse(rgb)[1])
    return Run(raw, first, median_timings(warm) if warm else first, len(warm))
