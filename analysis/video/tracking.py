"""Follow detections from frame to frame and count line crossings, with Roboflow's tools.

ByteTrack (Roboflow ``trackers``) gives each object an id that survives across frames, and
supervision's ``LineZone`` counts the tracks that cross a line. Both work on
``supervision.Detections``, which :func:`analysis.vision.detections.to_supervision` makes of ours.

Tracking runs on the filtered candidates of each analysed frame, so it can be replayed for
any confidence, IoU or class setting without running the network again (:func:`track_all`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import supervision as sv
from supervision.geometry.core import Vector
from trackers import ByteTrackTracker

from analysis.errors import InputError
from analysis.vision.detections import (
    DetectionFilter,
    Detections,
    filter_detections,
    to_supervision,
)


@dataclass(frozen=True)
class Line:
    """A counting line from ``(x1, y1)`` to ``(x2, y2)``, in pixels of the upright frame.

    Crossing it towards the left of the direction start → end counts "in", the other way
    "out" (supervision's ``LineZone`` convention).
    """

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        if (self.x1, self.y1) == (self.x2, self.y2):
            raise InputError("The counting line needs two different end points.")

    @classmethod
    def parse(cls, text: str) -> Line:
        """A line from ``"x1,y1,x2,y2"`` (pixels)."""
        try:
            x1, y1, x2, y2 = (float(part) for part in text.split(","))
        except ValueError:
            raise InputError(
                f"The line must be four numbers x1,y1,x2,y2 in pixels, not {text!r}."
            ) from None
        return cls(x1, y1, x2, y2)

    def zone(self) -> sv.LineZone:
        return sv.LineZone(start=sv.Point(self.x1, self.y1), end=sv.Point(self.x2, self.y2))


@dataclass(frozen=True)
class DrawnLine:
    """A counting line on a frame drawn at another size: what supervision's
    ``LineZoneAnnotator`` reads of a ``LineZone`` (its ends and counts), in the drawn frame's
    pixels, while the zone itself keeps counting in the video's own pixels."""

    vector: Vector
    in_count: int
    out_count: int


def drawn_line(zone: sv.LineZone, scale: float) -> sv.LineZone | DrawnLine:
    """``zone`` as drawn on a frame resized by ``scale``, with its counts so far."""
    if scale == 1.0:
        return zone
    start, end = zone.vector.start, zone.vector.end
    return DrawnLine(
        Vector(sv.Point(start.x * scale, start.y * scale), sv.Point(end.x * scale, end.y * scale)),
        zone.in_count,
        zone.out_count,
    )


@dataclass(frozen=True)
class TrackRecord:
    """One tracked object: id (1, 2, … in order of appearance), label, when it was seen."""

    id: int
    label: str  # the class it was detected as most often
    first_s: float
    last_s: float
    frames: int  # analysed frames it was detected in
    best_score: float

    @property
    def duration_s(self) -> float:
        return self.last_s - self.first_s

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "frames": self.frames,
            "best_score": round(self.best_score, 4),
        }


@dataclass
class _TrackStats:
    first_s: float
    last_s: float
    frames: int = 0
    best_score: float = 0.0
    labels: Counter = field(default_factory=Counter)


class Tracker:
    """ByteTrack over a stream of filtered detections, with track statistics and a line count.

    Parameters
    ----------
    frame_rate : float
        Analysed frames per second (the video's rate divided by the stride): ByteTrack keeps
        a lost track for about one second of them.
    line : Line, optional
        Count the tracks crossing it.
    """

    def __init__(self, frame_rate: float, line: Line | None = None) -> None:
        # Activation at 0.25, not ByteTrack's 0.7: the confidence control has already
        # decided which detections count, so each of them may start a track.
        self._tracker = ByteTrackTracker(
            frame_rate=max(frame_rate, 1.0),
            track_activation_threshold=0.25,
            minimum_consecutive_frames=2,
            high_conf_det_threshold=0.5,
        )
        self._ids: dict[int, int] = {}  # ByteTrack's process-wide ids -> 1, 2, … for this video
        self._stats: dict[int, _TrackStats] = {}
        self.line = line
        self.zone = line.zone() if line else None
        self._names: dict[int, str] = {}

    def update(self, time_s: float, detections: Detections) -> sv.Detections:
        """Track one frame's filtered detections; returns them with ``tracker_id``.

        Detections not (yet) part of a confirmed track get ``tracker_id`` -1.
        """
        tracked = self._tracker.update(to_supervision(detections))
        if len(tracked) == 0:
            tracked = sv.Detections.empty()
            tracked.tracker_id = np.zeros(0, dtype=int)
            tracked.data["class_name"] = np.zeros(0, dtype=object)
        ids = np.array([self._local_id(int(raw)) for raw in tracked.tracker_id], dtype=int).reshape(
            -1
        )
        tracked.tracker_id = ids
        for track_id, name, score in zip(
            ids, tracked.data["class_name"], tracked.confidence, strict=True
        ):
            if track_id >= 0:
                self._record(int(track_id), str(name), float(score), time_s)
        if self.zone is not None:
            self.zone.trigger(tracked)
            for class_id, name in zip(tracked.class_id, tracked.data["class_name"], strict=True):
                self._names[int(class_id)] = str(name)
        return tracked

    def _local_id(self, raw: int) -> int:
        if raw < 0:
            return -1
        return self._ids.setdefault(raw, len(self._ids) + 1)

    def _record(self, track_id: int, label: str, score: float, time_s: float) -> None:
        stats = self._stats.setdefault(track_id, _TrackStats(time_s, time_s))
        stats.last_s = time_s
        stats.frames += 1
        stats.best_score = max(stats.best_score, score)
        stats.labels[label] += 1

    def tracks(self) -> list[TrackRecord]:
        """Every confirmed track so far, by id."""
        return [
            TrackRecord(
                track_id,
                stats.labels.most_common(1)[0][0],
                stats.first_s,
                stats.last_s,
                stats.frames,
                stats.best_score,
            )
            for track_id, stats in sorted(self._stats.items())
        ]

    def crossings(self) -> dict[str, dict[str, int]] | None:
        """``{label: {"in": n, "out": m}}`` for the line, None without a line."""
        if self.zone is None:
            return None
        counts: dict[str, dict[str, int]] = {}
        for direction, per_class in (
            ("in", self.zone.in_count_per_class),
            ("out", self.zone.out_count_per_class),
        ):
            for class_id, n in per_class.items():
                label = self._names.get(class_id, f"class {class_id}")
                counts.setdefault(label, {"in": 0, "out": 0})[direction] += n
        return counts


@dataclass(frozen=True)
class Tracking:
    """The tracked detections of every analysed frame and what they add up to."""

    times: np.ndarray  # (K,) s, each analysed frame's time
    frames: list[sv.Detections]  # per analysed frame, with tracker_id (-1: unconfirmed)
    tracks: list[TrackRecord]
    crossings: dict[str, dict[str, int]] | None

    def counts(self) -> dict[str, int]:
        """Distinct tracked objects per label, most first."""
        return dict(Counter(track.label for track in self.tracks).most_common())

    def in_view(self) -> dict[str, np.ndarray]:
        """Per label, how many detections of it each analysed frame shows, shape (K,)."""
        labels = sorted({str(n) for f in self.frames for n in f.data.get("class_name", [])})
        counts = {label: np.zeros(len(self.frames), dtype=np.int32) for label in labels}
        for k, frame in enumerate(self.frames):
            for name in frame.data.get("class_name", []):
                counts[str(name)][k] += 1
        return counts


def track_all(
    times: np.ndarray,
    candidates: Sequence[Detections],
    params: DetectionFilter,
    frame_rate: float,
    line: Line | None = None,
) -> Tracking:
    """Filter each analysed frame's raw candidates and track them from the first frame.

    No network runs: this is what a confidence, IoU, class or line change costs.
    """
    tracker = Tracker(frame_rate, line)
    frames = [
        tracker.update(float(t), filter_detections(raw, params))
        for t, raw in zip(times, candidates, strict=True)
    ]
    return Tracking(
        np.asarray(times, dtype=np.float64), frames, tracker.tracks(), tracker.crossings()
    )
