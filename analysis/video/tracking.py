"""One object, one track, one label: follow detections from frame to frame with ByteTrack.

Roboflow ``trackers``' ByteTrack gives ids that survive across frames; around it:

1. before tracking, boxes of easily confused classes (car / truck / bus, …, see
   :data:`CONFUSABLE`; or of any classes, ``TrackRules.class_agnostic``) that overlap
   are one object: the best-scored box stays, so a van is not a car and a truck at once;
2. a track lost for at most ``max_gap_s`` and found again nearby keeps its id;
3. a track is an object only once it has lasted ``min_track_s`` (confirmed): a flicker of a
   few frames is not counted;
4. the confidence applies to whole tracks, as in ByteTrack: tracking runs on every candidate
   above :data:`TRACK_FLOOR` (low-scored boxes keep a track going through a blur or an
   occlusion), and a confirmed track is an object once the mean score of its clear
   detections so far (those scoring at least :data:`HIGH_SCORE`) is at least the confidence
   (decided as it goes, so the video drawn during the pass agrees). Objects are numbered
   1, 2, … in the order they became objects;
5. each track has one label: the class its detections' scores add up to most;
6. no track runs across a scene cut (:mod:`analysis.video.cuts`).

Tracking at the floor is done once per candidates set (:func:`track_all` keeps the last few):
a confidence change only filters whole tracks (:meth:`AllTracks.at`, a few ms), and the
replay gives exactly what the pass gave.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from analysis.video.objects import (
    CONFUSABLE,
    DEFAULT_RULES,
    MAX_GAP_S,
    MIN_TRACK_S,
    Tracking,
    TrackRecord,
    TrackRules,
    TrackSamples,
)
from analysis.vision.detections import (
    CLASS_NAME,
    DetectionFilter,
    Detections,
    filter_detections,
    nms_keep,
    to_supervision,
)

__all__ = [
    "CONFUSABLE",
    "DEFAULT_RULES",
    "HIGH_SCORE",
    "MAX_GAP_S",
    "MIN_TRACK_S",
    "TRACK_FLOOR",
    "AllTracks",
    "TrackRecord",
    "TrackRules",
    "TrackSamples",
    "Tracker",
    "Tracking",
    "floor_filter",
    "remember_tracks",
    "track_all",
]

HIGH_SCORE = 0.5
"""Detections scoring this much are matched to tracks first and may start one (ByteTrack's
high threshold); lower ones only continue a track."""

TRACK_FLOOR = 0.35
"""Candidates scoring at least this are tracked whatever the confidence (ByteTrack's second
association uses them to keep tracks going); the confidence then picks whole tracks. At 0.25
a passer-by's faint boxes took over vtest's sign's track (two tracks, each half sign, half
person); at 0.35 the sign is one 79-s track and the passer-by another."""

_TRACK = "track"  # data field of update()'s detections: the internal track index, -1 none


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
    public: int | None = None  # its number once an object (confirmed, mean score ≥ confidence)
    total: float = 0.0  # its detections' scores, summed
    clear: list[float] = field(default_factory=lambda: [0.0, 0])  # sum and count, ≥ HIGH_SCORE
    seqs: list[int] = field(default_factory=list)  # each detection's order among all the tracker's
    means: list[float] = field(default_factory=list)  # its score_so_far() at each detection
    confirmed_at: int | None = None  # its detection at which it had lasted min_track_s

    def score_so_far(self) -> float:
        """The mean score of its clear detections (≥ :data:`HIGH_SCORE`), else of them all:
        the boxes that only carried it through an occlusion do not pull it down."""
        total, count = self.clear
        return total / count if count else self.total / self.frames

    def counted_at(self, confidence: float) -> int | None:
        """The order (seq) of the detection at which it becomes an object at ``confidence``:
        it is confirmed and the mean score of its detections so far is at least that."""
        if self.confirmed_at is None:
            return None
        hits = np.flatnonzero(np.asarray(self.means[self.confirmed_at :]) >= confidence)
        return self.seqs[self.confirmed_at + int(hits[0])] if len(hits) else None

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
    confidence : float
        A confirmed track is an object (numbered) once its detections' mean score is this much.
        Feed it detections filtered at a lower score (:func:`floor_filter`) to track the
        ByteTrack way; 0: every confirmed track is an object.
    """

    def __init__(
        self, frame_rate: float, rules: TrackRules = DEFAULT_RULES, confidence: float = 0.0
    ) -> None:
        self.rules, self.confidence, self.frame_rate = rules, confidence, frame_rate
        self._tracker = self._bytetrack()
        self.period_s = 1.0 / max(frame_rate, 1e-6)
        self._tracks: list[_Track] = []  # by internal id
        self._of_raw: dict[int, int] = {}  # ByteTrack id -> internal id
        self._recent: list[int] = []  # internal ids of the tracks seen within max_gap_s
        self._class_ids: dict[str, int] = {}
        self._confirmed = 0
        self._seq = 0  # detections assigned to tracks so far
        self._frames: list[tuple[float, sv.Detections]] = []  # kept by update(record=True)

    def _bytetrack(self) -> ByteTrackTracker:
        # Tracks start from detections of 0.5 or more; lower ones (ByteTrack's second
        # association) only continue them.
        return ByteTrackTracker(
            frame_rate=max(self.frame_rate, 1.0),
            track_activation_threshold=0.25,
            minimum_consecutive_frames=2,
            high_conf_det_threshold=HIGH_SCORE,
        )

    def update(
        self, time_s: float, detections: Detections, record: bool = False, cut: bool = False
    ) -> sv.Detections:
        """Track one frame's filtered detections.

        Returns them with ``tracker_id`` = the object's number once confirmed, -1 before
        (or when not part of a track), and each one's ``class_name`` as detected in it
        (:meth:`shown` gives them later with what was decided since). ``record`` keeps the
        frame for :meth:`tracking`; ``cut``: the frame starts another shot (every track
        ends, none is resumed across it).
        """
        if cut:
            self._tracker, self._of_raw, self._recent = self._bytetrack(), {}, []
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
            track.total += score
            if score >= HIGH_SCORE:
                track.clear[0] += score
                track.clear[1] += 1
            track.seqs.append(self._seq)
            track.means.append(track.score_so_far())
            self._seq += 1
            if track.confirmed_at is None and time_s - track.first_s >= self.rules.min_track_s:
                track.confirmed_at = len(track.means) - 1
            if (
                track.public is None
                and track.confirmed_at is not None
                and track.means[-1] >= self.confidence
            ):
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
        """Every object so far, by number."""
        objects = sorted((t for t in self._tracks if t.public is not None), key=lambda t: t.public)
        return [_record(t.public, t) for t in objects]

    def all_tracks(self) -> AllTracks:
        """The recorded frames' confirmed tracks, whatever their scores: :meth:`AllTracks.at`
        picks the objects for any confidence."""
        confirmed = np.array([t.confirmed_at is not None for t in self._tracks] + [False])
        frames = [frame[confirmed[frame.data[_TRACK]]] for _, frame in self._frames]
        times = np.array([t for t, _ in self._frames], dtype=np.float64)
        return AllTracks(
            times, frames, list(self._tracks), dict(self._class_ids), self.rules, self.frame_rate
        )

    def tracking(self) -> Tracking:
        """The recorded frames with their objects only, under their final labels."""
        return self.all_tracks().at(self.confidence)


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


def _record(number: int, track: _Track) -> TrackRecord:
    return TrackRecord(
        number,
        track.label,
        track.first_s,
        track.last_s,
        track.frames,
        track.best_score,
        track.score_so_far(),
    )


@dataclass(frozen=True)
class AllTracks:
    """Every confirmed track of the analysed frames, whatever its scores (made by
    :meth:`Tracker.all_tracks`): :meth:`at` keeps the objects of one confidence."""

    times: np.ndarray  # (K,) s
    frames: list[sv.Detections]  # per frame, the detections of confirmed tracks
    tracks: list[_Track]  # by internal id (the frames' data["track"])
    class_ids: dict[str, int]
    rules: TrackRules
    frame_rate: float

    def at(self, confidence: float) -> Tracking:
        """The objects at ``confidence``: the confirmed tracks whose mean score reached that
        since they were confirmed, numbered in the order they did. Filters, does not track."""
        order = sorted(
            (seq, index)
            for index, track in enumerate(self.tracks)
            if (seq := track.counted_at(confidence)) is not None
        )
        numbers = np.full(len(self.tracks) + 1, -1, dtype=int)  # the last: no track (-1)
        numbers[[index for _, index in order]] = np.arange(1, len(order) + 1)
        labels = [track.label for track in self.tracks] + [""]
        names = np.array(labels, dtype=object)
        class_ids = np.array([self.class_ids.get(name, -1) for name in labels], dtype=int)
        frames = []
        for frame in self.frames:
            internal = frame.data[_TRACK]
            kept = numbers[internal] >= 0
            shown = frame[kept]
            shown.tracker_id = numbers[internal[kept]]
            shown.data[CLASS_NAME] = names[internal[kept]]
            shown.class_id = class_ids[internal[kept]]
            frames.append(shown)
        tracks = [_record(number, self.tracks[index]) for number, (_, index) in enumerate(order, 1)]
        return Tracking(self.times, frames, tracks, self.rules, 1.0 / max(self.frame_rate, 1e-6))


def floor_filter(params: DetectionFilter) -> DetectionFilter:
    """``params`` with the score tracking runs at: :data:`TRACK_FLOOR`, or lower with it."""
    return replace(params, confidence=min(params.confidence, TRACK_FLOOR))


_KEPT = 4  # candidates sets whose tracks are kept (each a few MB at most)
_kept: OrderedDict[tuple, tuple[Sequence[Detections], AllTracks]] = OrderedDict()
_kept_lock = threading.Lock()


def _key(
    candidates: Sequence[Detections], params: DetectionFilter, rate: float, rules: TrackRules
) -> tuple:
    return (id(candidates), floor_filter(params), float(rate), rules)


def remember_tracks(
    tracks: AllTracks, candidates: Sequence[Detections], params: DetectionFilter
) -> None:
    """Keep ``tracks`` (tracked from ``candidates`` filtered by ``floor_filter(params)``) for
    :func:`track_all` to reuse while ``candidates`` is the same object."""
    with _kept_lock:
        _kept[_key(candidates, params, tracks.frame_rate, tracks.rules)] = (candidates, tracks)
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)


def track_all(
    times: np.ndarray,
    candidates: Sequence[Detections],
    params: DetectionFilter,
    frame_rate: float,
    rules: TrackRules = DEFAULT_RULES,
) -> Tracking:
    """Filter each analysed frame's raw candidates and track them from the first frame.

    No network runs: this is what a confidence, IoU, class or rule change costs. Tracks end at
    the scene cuts of ``candidates`` if it has them (``Candidates``, as the pass gives). Tracking at
    the floor score is kept per ``candidates`` object, IoU, classes and rules: a confidence
    change on the same candidates only filters tracks. Lines and zones are counted from the
    result (:func:`analysis.video.regions.count_regions`).
    """
    with _kept_lock:
        kept = _kept.get(_key(candidates, params, frame_rate, rules))
    if kept is not None and kept[0] is candidates and np.array_equal(kept[1].times, times):
        return kept[1].at(params.confidence)
    tracker = Tracker(frame_rate, rules)
    floor = floor_filter(params)
    cuts = set(getattr(candidates, "cuts", ()))  # analysis.video.cuts.Candidates
    for k, (t, raw) in enumerate(zip(times, candidates, strict=True)):
        tracker.update(float(t), filter_detections(raw, floor), record=True, cut=k in cuts)
    tracks = tracker.all_tracks()
    remember_tracks(tracks, candidates, params)
    return tracks.at(params.confidence)
