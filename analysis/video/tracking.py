"""One object, one track, one label: follow detections from frame to frame with ByteTrack.

Roboflow ``trackers``' ByteTrack gives ids that survive across frames; around it:

1. before tracking, boxes of easily confused classes (car / truck / bus, …, see
   :data:`CONFUSABLE`; or of any classes, ``TrackRules.class_agnostic``) that overlap
   are one object: the best-scored box stays, so a van is not a car and a truck at once;
2. a track lost for at most ``max_gap_s`` and found again nearby keeps its id;
3. a track is an object only once it has lasted ``min_track_s`` (confirmed): a flicker of a
   few frames is not counted. Confirmed tracks are numbered 1, 2, … in the order they
   were confirmed;
4. each track has one label: the class its detections' scores add up to most.

Tracking runs on the filtered candidates of each analysed frame, so it can be replayed for
any confidence, IoU, class or rule setting without running the network again
(:func:`track_all`), and the replay gives exactly what the pass gave.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from analysis.errors import InputError
from analysis.vision.detections import (
    CLASS_NAME,
    DetectionFilter,
    Detections,
    filter_detections,
    nms_keep,
    to_supervision,
)

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

_TRACK = "track"  # data field of update()'s detections: the internal track index, -1 none


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
    mean_score: float  # of its detections: low (a sign seen as a person: 0.53) says unsure

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


@dataclass
class _Track:
    group: str
    first_s: float
    last_s: float
    box: np.ndarray  # last xyxy
    recent: deque = field(default_factory=lambda: deque(maxlen=10))  # (t, centre) lately
    frames: int = 0
    best_score: float = 0.0
    votes: Counter = field(default_factory=Counter)  # label -> summed score
    raw: int = -1  # the ByteTrack id that owns it now
    public: int | None = None  # its number once confirmed

    @property
    def label(self) -> str:
        return self.votes.most_common(1)[0][0]


class Tracker:
    """ByteTrack with the rules of :class:`TrackRules`, fed one frame at a time.

    Parameters
    ----------
    frame_rate : float
        Analysed frames per second (the video's rate divided by the stride).
    rules : TrackRules
    """

    def __init__(self, frame_rate: float, rules: TrackRules = DEFAULT_RULES) -> None:
        # Activation at 0.25, not ByteTrack's 0.7: the confidence control has already
        # decided which detections count, so each of them may start a track.
        self._tracker = ByteTrackTracker(
            frame_rate=max(frame_rate, 1.0),
            track_activation_threshold=0.25,
            minimum_consecutive_frames=2,
            high_conf_det_threshold=0.5,
        )
        self.rules = rules
        self.period_s = 1.0 / max(frame_rate, 1e-6)
        self._tracks: list[_Track] = []  # by internal id
        self._of_raw: dict[int, int] = {}  # ByteTrack id -> internal id
        self._recent: list[int] = []  # internal ids of the tracks seen within max_gap_s
        self._class_ids: dict[str, int] = {}
        self._confirmed = 0
        self._frames: list[tuple[float, sv.Detections]] = []  # kept by update(record=True)

    def update(self, time_s: float, detections: Detections, record: bool = False) -> sv.Detections:
        """Track one frame's filtered detections.

        Returns them with ``tracker_id`` = the object's number once confirmed, -1 before
        (or when not part of a track), and each one's ``class_name`` as detected in it
        (:meth:`shown` gives them later with what was decided since). ``record`` keeps the
        frame for :meth:`tracking`.
        """
        merged = _merge_confusable(detections, self.rules)
        tracked = to_supervision(merged) if len(merged) else _empty()
        tracked.tracker_id = self._track_ids(merged)
        internal = self._assign(time_s, tracked)
        tracked.data[_TRACK] = internal
        if record:
            self._frames.append((time_s, tracked[:]))
        tracked.tracker_id = self._numbers()[internal]
        return tracked

    def _track_ids(self, detections: Detections) -> np.ndarray:
        """ByteTrack's id of each detection (-1: none). It deep-copies what it is given,
        detection by detection: it gets the boxes and scores alone, and each one's row number
        in ``class_id`` (which it ignores) to find them in its answer (2x faster tracking)."""
        rows = np.arange(len(detections))
        bare = sv.Detections(xyxy=detections.boxes, confidence=detections.scores, class_id=rows)
        tracked = self._tracker.update(bare)
        ids = np.full(len(detections), -1, dtype=int)
        if tracked.tracker_id is not None and len(tracked):
            ids[tracked.class_id] = tracked.tracker_id
        return ids

    def _assign(self, time_s: float, tracked: sv.Detections) -> np.ndarray:
        """Internal id of each tracked detection (-1: none), statistics updated."""
        raws = tracked.tracker_id.astype(int)
        internal = np.full(len(tracked), -1, dtype=int)
        known = [i for i, raw in enumerate(raws) if raw >= 0 and raw in self._of_raw]
        new = [i for i, raw in enumerate(raws) if raw >= 0 and raw not in self._of_raw]
        for i in known + new:  # the tracks still followed first: the new ones may resume a lost one
            raw, box = int(raws[i]), tracked.xyxy[i]
            label = str(tracked.data[CLASS_NAME][i])
            self._class_ids.setdefault(label, int(tracked.class_id[i]))
            index = self._of_raw.get(raw)
            if index is not None and self._tracks[index].raw != raw:
                index = None  # its track was taken over by another ByteTrack id meanwhile
            if index is None:
                index = self._resumed(time_s, box, self.rules.group(label))
            if index is None:
                index = len(self._tracks)
                self._tracks.append(_Track(self.rules.group(label), time_s, time_s, box))
                self._recent.append(index)
            self._of_raw[raw] = index
            track = self._tracks[index]
            score = float(tracked.confidence[i])
            track.raw, track.last_s, track.box = raw, time_s, box
            track.recent.append((time_s, (box[:2] + box[2:]) / 2))
            track.frames += 1
            track.best_score = max(track.best_score, score)
            track.votes[label] += score
            if track.public is None and track.last_s - track.first_s >= self.rules.min_track_s:
                self._confirmed += 1
                track.public = self._confirmed
            internal[i] = index
        return internal

    def _resumed(self, time_s: float, box: np.ndarray, group: str) -> int | None:
        """The lost track this new one continues: of the same group, unseen for at most
        ``max_gap_s``, within a box's size of where it would be had it kept its recent
        velocity; the nearest such."""
        centre = (box[:2] + box[2:]) / 2
        best, best_distance = None, np.inf
        recent = [
            i for i in self._recent if time_s - self._tracks[i].last_s <= self.rules.max_gap_s
        ]
        self._recent = recent  # a long live session does not look through all its past tracks
        for index in recent:
            track = self._tracks[index]
            gap = time_s - track.last_s
            if track.group != group or gap <= 0 or gap > self.rules.max_gap_s:
                continue
            (t0, c0), (t1, c1) = track.recent[0], track.recent[-1]
            velocity = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
            size = float(np.max(track.box[2:] - track.box[:2]))
            distance = float(np.hypot(*(centre - c1 - velocity * gap)))
            if distance <= size and distance < best_distance:
                best, best_distance = index, distance
        return best

    def _numbers(self) -> np.ndarray:
        """Each internal track's number (-1: not confirmed), and -1 at index -1 (no track)."""
        return np.array([t.public or -1 for t in self._tracks] + [-1], dtype=int)

    def shown(self, tracked: sv.Detections) -> sv.Detections:
        """Of a frame :meth:`update` returned, the confirmed objects, each under its label so
        far: what the annotated video draws (a few frames later, when most are decided)."""
        numbers = self._numbers()[tracked.data[_TRACK]]
        shown = tracked[numbers >= 0]
        shown.tracker_id = numbers[numbers >= 0]
        return self._labelled(shown, self.labels())

    def labels(self) -> dict[int, str]:
        """Each confirmed object's label so far, by number."""
        return {t.public: t.label for t in self._tracks if t.public is not None}

    def _labelled(self, detections: sv.Detections, labels: dict[int, str]) -> sv.Detections:
        names = [labels[int(i)] for i in detections.tracker_id]
        detections.data[CLASS_NAME] = np.array(names, dtype=object).reshape(-1)
        detections.class_id = np.array([self._class_ids[n] for n in names], dtype=int).reshape(-1)
        return detections

    def tracks(self) -> list[TrackRecord]:
        """Every confirmed object so far, by number."""
        confirmed = sorted(
            (t for t in self._tracks if t.public is not None), key=lambda t: t.public
        )
        return [
            TrackRecord(
                t.public,
                t.label,
                t.first_s,
                t.last_s,
                t.frames,
                t.best_score,
                sum(t.votes.values()) / t.frames,
            )
            for t in confirmed
        ]

    def tracking(self) -> Tracking:
        """The recorded frames with their confirmed objects only, under their final labels."""
        frames = [self.shown(frame) for _, frame in self._frames]
        times = np.array([t for t, _ in self._frames], dtype=np.float64)
        return Tracking(times, frames, self.tracks(), self.rules, self.period_s)


def _empty() -> sv.Detections:
    empty = sv.Detections.empty()
    empty.tracker_id = np.zeros(0, dtype=int)
    empty.data[CLASS_NAME] = np.zeros(0, dtype=object)
    empty.class_id = np.zeros(0, dtype=int)
    return empty


def _merge_confusable(detections: Detections, rules: TrackRules) -> Detections:
    """One box per object among overlapping boxes of confusable classes: the best scored."""
    if len(detections) < 2:
        return detections
    groups: dict[str, int] = {}
    group_ids = np.array(
        [groups.setdefault(rules.group(str(n)), len(groups)) for n in detections.labels]
    )
    keep = np.sort(nms_keep(detections.boxes, detections.scores, rules.merge_iou, group_ids))
    return detections[keep]


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


def track_all(
    times: np.ndarray,
    candidates: Sequence[Detections],
    params: DetectionFilter,
    frame_rate: float,
    rules: TrackRules = DEFAULT_RULES,
) -> Tracking:
    """Filter each analysed frame's raw candidates and track them from the first frame.

    No network runs: this is what a confidence, IoU, class or rule change costs. Lines and
    zones are counted from the result (:func:`analysis.video.regions.count_regions`).
    """
    tracker = Tracker(frame_rate, rules)
    for t, raw in zip(times, candidates, strict=True):
        tracker.update(float(t), filter_detections(raw, params), record=True)
    return tracker.tracking()
