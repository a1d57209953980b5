"""Named counting lines and zones, counted from an analysed video's confirmed tracks.

No network runs and nothing is decoded: a line or zone moved on the page is counted again
from the tracks (:class:`~analysis.video.tracking.Tracking`) in a few milliseconds per
minute of video. The rules are supervision's:

- a line (``sv.LineZone``): a track crosses it when all four corners of its box go from one
  side to the other, within the segment's span (a box straddling the line or beside its ends
  is skipped). The side a track is first seen on is its reference; each change of side is
  one crossing, "in" towards :meth:`Line.in_direction`, "out" the other way;
- a zone (``sv.PolygonZone``): a track is in it while the bottom centre of its box (where an
  object stands) is inside the polygon. "entered" counts the tracks ever inside, and
  ``mean_dwell_s`` is their mean time inside (a missed detection between two frames inside
  counts as inside).

Each object is counted under its track's one label, so a line's counts add up with the
video's ``counts``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.errors import InputError
from analysis.video.tracking import Tracking


def _split_name(text: str, default: str) -> tuple[str, str]:
    """``"NAME=values"`` → (NAME, values); a bare ``"values"`` gets ``default``."""
    name, sep, values = text.partition("=")
    if not sep:
        return default, text
    if not name.strip():
        raise InputError(f"The name before '=' is empty in {text!r}.")
    return name.strip(), values


def _numbers(text: str, what: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"The {what} must be numbers separated by commas, not {text!r}.") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"The {what} must be finite numbers, not {text!r}.")
    return values


@dataclass(frozen=True)
class Line:
    """A named counting line from ``(x1, y1)`` to ``(x2, y2)``, pixels of the upright frame.

    Crossing it in :meth:`in_direction` counts "in" (supervision's ``LineZone`` convention:
    for a line drawn left to right, moving up the picture); :meth:`flipped` swaps the sides.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    name: str = "line"

    def __post_init__(self) -> None:
        if (self.x1, self.y1) == (self.x2, self.y2):
            raise InputError(f"The line {self.name!r} needs two different end points.")

    @classmethod
    def parse(cls, text: str, default_name: str = "line") -> Line:
        """A line from ``"NAME=x1,y1,x2,y2"`` or ``"x1,y1,x2,y2"`` (pixels)."""
        name, values = _split_name(text, default_name)
        numbers = _numbers(values, "line")
        if len(numbers) != 4:
            raise InputError(f"The line must be four numbers x1,y1,x2,y2 in pixels, not {text!r}.")
        return cls(*numbers, name=name)

    def flipped(self) -> Line:
        """The same line with "in" and "out" swapped (its ends swapped)."""
        return Line(self.x2, self.y2, self.x1, self.y1, self.name)

    def in_direction(self) -> tuple[float, float]:
        """Unit vector (dx, dy), image pixels (y down), of a movement that counts "in": the
        arrow the page draws on the line."""
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        norm = math.hypot(dx, dy)
        return dy / norm, -dx / norm

    def scaled(self, scale: float) -> Line:
        """The line on a frame resized by ``scale``."""
        x1, y1, x2, y2 = (v * scale for v in (self.x1, self.y1, self.x2, self.y2))
        return Line(x1, y1, x2, y2, self.name)


@dataclass(frozen=True)
class Zone:
    """A named polygon zone, its corners ``((x, y), ...)`` in pixels of the upright frame."""

    points: tuple[tuple[float, float], ...]
    name: str = "zone"

    def __post_init__(self) -> None:
        if len(self.points) < 3:
            raise InputError(f"The zone {self.name!r} needs at least three corners.")
        if _area(np.asarray(self.points, dtype=np.float64)) == 0:
            raise InputError(f"The zone {self.name!r} has no area: its corners are in a line.")

    @classmethod
    def parse(cls, text: str, default_name: str = "zone") -> Zone:
        """A zone from ``"NAME=x1,y1,x2,y2,x3,y3,..."`` or without ``NAME=`` (pixels)."""
        name, values = _split_name(text, default_name)
        numbers = _numbers(values, "zone")
        if len(numbers) < 6 or len(numbers) % 2:
            raise InputError(
                f"The zone must be at least three x,y corners in pixels, not {text!r}."
            )
        return cls(tuple(zip(numbers[::2], numbers[1::2], strict=True)), name)

    def scaled(self, scale: float) -> Zone:
        """The zone on a frame resized by ``scale``."""
        return Zone(tuple((x * scale, y * scale) for x, y in self.points), self.name)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Which of ``points`` ((N, 2) x, y pixels) are inside (even-odd rule), (N,) bool."""
        return _inside(np.asarray(points, dtype=np.float64).reshape(-1, 2), self.points)


def _area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _inside(points: np.ndarray, polygon: Sequence[tuple[float, float]]) -> np.ndarray:
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    corners = list(polygon)
    for (xa, ya), (xb, yb) in zip(corners, corners[1:] + corners[:1], strict=True):
        if ya == yb:
            continue
        spans = (ya > y) != (yb > y)
        crossing_x = xa + (y - ya) * (xb - xa) / (yb - ya)
        inside ^= spans & (x < crossing_x)
    return inside


def line_sides(line: Line, boxes: np.ndarray) -> np.ndarray:
    """Side of ``line`` each box is on: +1 wholly on the "in" side, -1 wholly on the "out"
    side, 0 straddling it or beyond its ends. ``boxes`` (N, 4) xyxy pixels → (N,) int8."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    corners = boxes[:, [[0, 1], [2, 1], [0, 3], [2, 3]]]  # (N, 4 corners, xy)
    start = np.array([line.x1, line.y1])
    direction = np.array([line.x2 - line.x1, line.y2 - line.y1])
    relative = corners - start
    cross = direction[0] * relative[..., 1] - direction[1] * relative[..., 0]
    along = relative @ direction / float(direction @ direction)
    within = np.all((along > 0) & (along < 1), axis=1)
    side = np.where(np.all(cross < 0, axis=1), 1, np.where(np.all(cross > 0, axis=1), -1, 0))
    return np.where(within, side, 0).astype(np.int8)


def bottom_centres(boxes: np.ndarray) -> np.ndarray:
    """(N, 2) bottom centre of each xyxy box: where an object stands (PolygonZone's anchor)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]])


@dataclass(frozen=True)
class Crossing:
    """One track crossing one line."""

    time_s: float  # the first frame seen on the new side
    line: str
    direction: str  # "in" or "out"
    track_id: int
    label: str


@dataclass(frozen=True)
class Visit:
    """One track's time in one zone (all its time inside, summed)."""

    zone: str
    track_id: int
    label: str
    first_s: float  # first frame inside
    dwell_s: float


@dataclass(frozen=True)
class RegionCounts:
    """What crossed the lines and stayed in the zones: events, and their counts per label."""

    lines: tuple[str, ...]
    zones: tuple[str, ...]
    crossings: list[Crossing]  # in time order (the timeline's events)
    visits: list[Visit]

    def line_counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{line: {"in": {label: n}, "out": {label: n}}}``, every line present."""
        counts = {name: {"in": defaultdict(int), "out": defaultdict(int)} for name in self.lines}
        for crossing in self.crossings:
            counts[crossing.line][crossing.direction][crossing.label] += 1
        return {
            name: {side: dict(sorted(per.items())) for side, per in sides.items()}
            for name, sides in counts.items()
        }

    def zone_counts(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{zone: {label: {"entered": n, "mean_dwell_s": s}}}``, every zone present."""
        dwells: dict[str, dict[str, list[float]]] = {name: {} for name in self.zones}
        for visit in self.visits:
            dwells[visit.zone].setdefault(visit.label, []).append(visit.dwell_s)
        return {
            zone: {
                label: {"entered": len(times), "mean_dwell_s": round(float(np.mean(times)), 2)}
                for label, times in sorted(per_label.items())
            }
            for zone, per_label in dwells.items()
        }


@dataclass
class RegionCounter:
    """Counts lines and zones frame by frame, as a video is played: the annotated video draws
    the counts so far. :func:`count_regions` counts a whole tracking at once, alike.

    Feed it each analysed frame's tracked boxes with :meth:`update`, in time order.
    """

    lines: Sequence[Line] = ()
    zones: Sequence[Zone] = ()
    period_s: float = 0.04  # time between analysed frames: the last frame inside lasts this
    crossings: list[Crossing] = field(default_factory=list)
    _sides: dict[tuple[str, int], int] = field(default_factory=dict)
    _inside: dict[tuple[str, int], float] = field(default_factory=dict)  # zone, id -> last t in
    _visits: dict[tuple[str, int], list] = field(default_factory=dict)  # -> [label, first, dwell]
    _now: float | None = None

    def update(self, time_s: float, ids: np.ndarray, labels: Sequence[str], boxes: np.ndarray):
        """Count one frame: its track ``ids`` (N,), their ``labels`` and xyxy ``boxes``
        (N, 4) pixels. Returns the crossings this frame made."""
        made = []
        self._now = time_s
        for line in self.lines:
            for track_id, label, side in zip(ids, labels, line_sides(line, boxes), strict=True):
                if side == 0:
                    continue
                before = self._sides.setdefault((line.name, int(track_id)), int(side))
                if before != side:
                    self._sides[(line.name, int(track_id))] = int(side)
                    direction = "in" if side > 0 else "out"
                    made.append(Crossing(time_s, line.name, direction, int(track_id), str(label)))
        self.crossings += made
        anchors = bottom_centres(boxes)
        for zone in self.zones:
            for track_id, label, inside in zip(ids, labels, zone.contains(anchors), strict=True):
                key = (zone.name, int(track_id))
                last_in = self._inside.pop(key, None)
                if not inside:
                    continue
                if last_in is not None:  # unseen between two frames inside: inside all along
                    self._visits[key][2] += time_s - last_in - self.period_s
                self._inside[key] = time_s
                self._visits.setdefault(key, [str(label), time_s, 0.0])[2] += self.period_s
        return made

    def inside_now(self) -> dict[str, int]:
        """Objects in each zone on the last frame counted."""
        inside = dict.fromkeys((zone.name for zone in self.zones), 0)
        for (zone, _), last_in in self._inside.items():
            inside[zone] += last_in == self._now
        return inside

    def counts(self) -> RegionCounts:
        """The counts so far."""
        visits = [
            Visit(zone, track_id, label, first_s, dwell_s)
            for (zone, track_id), (label, first_s, dwell_s) in self._visits.items()
        ]
        return RegionCounts(
            tuple(line.name for line in self.lines),
            tuple(zone.name for zone in self.zones),
            list(self.crossings),
            visits,
        )


def count_regions(tracking: Tracking, lines: Sequence[Line], zones: Sequence[Zone]) -> RegionCounts:
    """Count ``lines`` and ``zones`` over a whole tracking (its confirmed tracks, each under
    its one label), as :class:`RegionCounter` does frame by frame, all tracks at once: no
    inference, no decoding, a few milliseconds a minute of video."""
    samples = tracking.samples()
    ids, times, labels = samples.ids, samples.times, samples.labels
    same_track = np.zeros(len(ids), dtype=bool)  # sample i follows sample i - 1 of its track
    same_track[1:] = ids[1:] == ids[:-1]
    crossings = []
    for line in lines:
        sides = line_sides(line, samples.boxes)
        on_a_side = np.flatnonzero(sides)
        side, track = sides[on_a_side], ids[on_a_side]
        changed = on_a_side[1:][(track[1:] == track[:-1]) & (side[1:] != side[:-1])]
        crossings += [
            Crossing(float(times[i]), line.name, "in" if sides[i] > 0 else "out",
                     int(ids[i]), str(labels[i]))
            for i in changed
        ]  # fmt: skip
    crossings.sort(key=lambda c: (c.time_s, c.track_id))
    visits = []
    period = tracking.period_s
    for zone in zones:
        inside = zone.contains(bottom_centres(samples.boxes))
        dwell = inside * period
        # Unseen between two frames inside: inside all along.
        both = same_track[1:] & inside[1:] & inside[:-1]
        dwell[1:][both] += np.diff(times)[both] - period
        tracks_in = np.unique(ids[inside])
        for track_id in tracks_in:
            mine = np.flatnonzero((ids == track_id) & inside)
            visits.append(
                Visit(zone.name, int(track_id), str(labels[mine[0]]), float(times[mine[0]]),
                      float(dwell[mine].sum()))
            )  # fmt: skip
    return RegionCounts(
        tuple(line.name for line in lines), tuple(zone.name for zone in zones), crossings, visits
    )
