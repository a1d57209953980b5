"""What tracking found: the confirmed objects (:class:`TrackRecord`) and, per analysed frame,
their boxes (:class:`Tracking`), with what they add up to (counts, objects in view, samples for
lines and zones). Made by :mod:`analysis.video.tracking`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import supervision as sv

from analysis.errors import InputError
from analysis.vision.detections import CLASS_NAME

MIN_TRACK_S = 0.5
"""Default time a track must last to count as an object, s (the page states it)."""

MAX_GAP_S = 2.0
"""Default longest time an object may go unseen and keep its id, s."""

CONFUSABLE: tuple[frozenset[str], ...] = (
    frozenset({"car", "truck", "bus", "van", "train"}),
    frozenset({"bicycle", "motorcycle", "motorbike"}),
    frozenset({"cat", "dog", "sheep", "cow", "horse", "bear"}),
)
"""Classes a detector easily mistakes for one another: one object may flip between them."""


@dataclass(frozen=True)
class TrackRules:
    """How detections become objects.

    Attributes
    ----------
    min_track_s : float
        A track counts as an object once it has lasted this long, s (0: every track).
    max_gap_s : float
        A track lost for at most this long and found again near where it was keeps its id, s.
    class_agnostic : bool
        Overlapping boxes of any classes are one object (else only :data:`CONFUSABLE` ones).
    merge_iou : float
        Overlap (IoU) above which boxes of confusable classes are one object.
    """

    min_track_s: float = MIN_TRACK_S
    max_gap_s: float = MAX_GAP_S
    class_agnostic: bool = False
    merge_iou: float = 0.6

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_track_s <= 600.0:
            raise InputError(f"The minimum track time must be 0 to 600 s, not {self.min_track_s}.")
        if not 0.0 <= self.max_gap_s <= 600.0:
            raise InputError(f"The longest gap must be 0 to 600 s, not {self.max_gap_s}.")
        if not 0.0 < self.merge_iou <= 1.0:
            raise InputError(f"The merge IoU must be above 0 and at most 1, not {self.merge_iou}.")

    def group(self, label: str) -> str:
        """The name of the set of classes ``label`` may be confused with."""
        if self.class_agnostic:
            return "any"
        return next((",".join(sorted(g)) for g in CONFUSABLE if label in g), label)


DEFAULT_RULES = TrackRules()


@dataclass(frozen=True)
class TrackRecord:
    """One confirmed object: its id, its one label, when it was seen."""

    id: int  # 1, 2, … in the order the tracks were confirmed
    label: str  # the class its detections' scores add up to most
    first_s: float
    last_s: float
    frames: int  # analysed frames it was detected in
    best_score: float
    mean_score: float  # of its clear detections (≥ 0.5): low (a sign as a person) says unsure

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
            "best_score": round(self.best_score, 2),
            "mean_score": round(self.mean_score, 2),
        }


@dataclass(frozen=True)
class TrackSamples:
    """Every detection of every confirmed track, flat, ordered by track then time."""

    ids: np.ndarray  # (N,) int, the track's number
    times: np.ndarray  # (N,) s
    labels: np.ndarray  # (N,) object, the track's label
    boxes: np.ndarray  # (N, 4) xyxy pixels


@dataclass(frozen=True)
class Tracking:
    """The confirmed objects of every analysed frame and what they add up to.

    Attributes
    ----------
    times : np.ndarray
        (K,) s, each analysed frame's time.
    frames : list of sv.Detections
        Per analysed frame, the confirmed objects only: ``tracker_id`` = the object's number,
        ``class_name`` / ``class_id`` = its track's one label.
    tracks : list of TrackRecord
        The confirmed objects, by number.
    rules : TrackRules
    period_s : float
        Time between analysed frames, s.
    """

    times: np.ndarray
    frames: list[sv.Detections]
    tracks: list[TrackRecord]
    rules: TrackRules = DEFAULT_RULES
    period_s: float = 0.04

    def of_labels(self, labels: Collection[str] | None) -> Tracking:
        """Only the objects whose one label is in ``labels`` (None: all): the class filter
        applied to objects, without tracking again (a few ms for minutes of video).

        Filtering tracks, not detections, keeps an object whole when some of its frames
        were seen as another class.
        """
        if labels is None:
            return self
        wanted = set(labels)
        frames = [
            frame[np.isin(frame.data[CLASS_NAME], list(wanted))] if len(frame) else frame
            for frame in self.frames
        ]
        tracks = [track for track in self.tracks if track.label in wanted]
        return Tracking(self.times, frames, tracks, self.rules, self.period_s)

    def counts(self) -> dict[str, int]:
        """Distinct confirmed objects per label, most first."""
        return dict(Counter(track.label for track in self.tracks).most_common())

    @cached_property
    def _in_view(self) -> dict[str, np.ndarray]:
        counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(self.frames), np.int32))
        for k, frame in enumerate(self.frames):
            for name in frame.data.get(CLASS_NAME, []):
                counts[str(name)][k] += 1
        return {label: counts[label] for label in sorted(counts)}

    @cached_property
    def _samples(self) -> TrackSamples:
        sizes = [len(frame) for frame in self.frames]
        if not sum(sizes):
            empty = np.zeros(0)
            return TrackSamples(empty.astype(int), empty, empty.astype(object), np.zeros((0, 4)))
        ids = np.concatenate([frame.tracker_id for frame in self.frames]).astype(int)
        order = np.lexsort((np.arange(len(ids)), ids))  # by track, then time
        return TrackSamples(
            ids[order],
            np.repeat(self.times, sizes)[order],
            np.concatenate([frame.data[CLASS_NAME] for frame in self.frames])[order],
            np.concatenate([frame.xyxy for frame in self.frames])[order],
        )

    def samples(self) -> TrackSamples:
        """The tracks' detections, flat (made once): what lines and zones are counted on."""
        return self._samples

    def in_view(self) -> dict[str, np.ndarray]:
        """Per label, how many confirmed objects of it each analysed frame shows, (K,) int."""
        return self._in_view
