"""What the lanes under the interactive spectrogram draw, cut to its view: the waveform's
envelope, and tracks (pitch, formants) thinned to about a point a pixel column.

>>> low, high = envelope(y, 16000, start_s=1.0, end_s=3.0, columns=996)
>>> times, f0 = track_in_view(voice.times, voice.f0_hz, 1.0, 3.0, max_points=2000)
"""

from __future__ import annotations

import numpy as np

from analysis.audio.tagging import Tagging
from analysis.errors import InputError


def envelope(
    y: np.ndarray, sample_rate: int, *, start_s: float, end_s: float, columns: int
) -> tuple[np.ndarray, np.ndarray]:
    """The minimum and maximum of mono ``y`` in each of ``columns`` equal slices of
    ``[start_s, end_s]`` (s), float32 ``(columns,)`` each; fewer columns when the range has
    fewer samples."""
    if columns < 1:
        raise InputError("The waveform needs at least one column.")
    first = max(round(start_s * sample_rate), 0)
    last = min(round(end_s * sample_rate), len(y))
    part = y[first:last]
    if part.size == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    starts = np.linspace(0, part.size, min(columns, part.size) + 1)[:-1].astype(np.int64)
    return np.minimum.reduceat(part, starts), np.maximum.reduceat(part, starts)


def track_in_view(
    times: np.ndarray, values: np.ndarray, start_s: float, end_s: float, *, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of a track (``times`` in s, ``values`` along the first axis) between two
    times, keeping every n-th so that at most ``max_points`` remain."""
    inside = np.flatnonzero((times >= start_s) & (times <= end_s))
    step = max(1, -(-len(inside) // max_points))
    kept = inside[::step]
    return times[kept], values[kept]


def tag_spans(
    tagging: Tagging, start_s: float, end_s: float
) -> list[tuple[float, float, str, float]]:
    """The best-scoring class over time between two times (s): ``(start, end, label, score)``
    spans, one per run of frames with the same best class (each frame reaches half-way to its
    neighbours' centres); the score is the run's mean."""
    part = tagging.between(start_s, end_s)
    if len(part.scores) == 0:
        return []
    best = part.scores.argmax(axis=1)
    centres = part.centers
    edges = np.concatenate(([start_s], (centres[:-1] + centres[1:]) / 2, [end_s]))
    spans = []
    run = 0
    for i in range(1, len(best) + 1):
        if i == len(best) or best[i] != best[run]:
            score = float(part.scores[run:i, best[run]].mean())
            spans.append((float(edges[run]), float(edges[i]), part.class_names[best[run]], score))
            run = i
    return spans
