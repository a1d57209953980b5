"""One object, one track, one label; lines and zones counted from tracks: generated detections
with known answers (the detector's output is made directly, no video or network)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import InputError
from analysis.video.regions import Line, RegionCounter, Zone, count_regions
from analysis.video.tracking import TrackRules, track_all
from analysis.vision.detections import DetectionFilter, Detections

FPS = 25.0
LABELS = ("car", "truck", "person", "square")
SIDE = 40


def frames_of(*paths, seconds: float, scores=None, labels=None):
    """Per frame, one detection per path: ``path(t)`` gives the (x, y) top-left corner of a
    SIDE-px box at time t (None: not seen). ``labels`` / ``scores``: per path, functions of
    the frame index (default "square", 0.9)."""
    times = np.arange(round(seconds * FPS)) / FPS
    candidates = []
    for k, t in enumerate(times):
        boxes, kept_scores, class_ids = [], [], []
        for n, path in enumerate(paths):
            corner = path(t)
            if corner is None:
                continue
            x, y = corner
            boxes.append([x, y, x + SIDE, y + SIDE])
            kept_scores.append(scores[n](k) if scores else 0.9)
            class_ids.append(LABELS.index(labels[n](k)) if labels else 3)
        candidates.append(Detections(boxes, kept_scores, class_ids, LABELS))
    return times, candidates


def tracked(times, candidates, **rules):
    return track_all(times, candidates, DetectionFilter(0.3, 0.45), FPS, TrackRules(**rules))


def test_one_square_moving_for_three_seconds_is_one_object() -> None:
    times, candidates = frames_of(lambda t: (20 + 100 * t, 200), seconds=3)
    tracking = tracked(times, candidates)
    assert tracking.counts() == {"square": 1}
    (track,) = tracking.tracks
    assert track.duration_s == pytest.approx(3 - 2 / FPS)  # from its second frame (its id)
    assert {int(i) for frame in tracking.frames for i in frame.tracker_id} == {1}


def test_a_label_flipping_between_two_classes_is_one_object_with_the_majority_label() -> None:
    # A van seen as a car in 2 frames of 3 (score 0.6), as a truck in the third (0.8):
    # by score the truck wins one frame in three, 0.8 < 2 × 0.6.
    def label(k: int) -> str:
        return "truck" if k % 3 == 0 else "car"

    def score(k: int) -> float:
        return 0.8 if k % 3 == 0 else 0.6

    times, candidates = frames_of(
        lambda t: (20 + 50 * t, 100), seconds=3, labels=[label], scores=[score]
    )
    tracking = tracked(times, candidates)
    assert tracking.counts() == {"car": 1}
    labels = {str(n) for frame in tracking.frames for n in frame.data["class_name"]}
    assert labels == {"car"}  # every frame shows the track's one label
    assert set(tracking.in_view()) == {"car"}


def test_two_boxes_of_confusable_classes_on_one_object_are_one_object() -> None:
    times, candidates = frames_of(
        lambda t: (100, 100),
        lambda t: (102, 101),
        seconds=2,
        labels=[lambda k: "car", lambda k: "truck"],
        scores=[lambda k: 0.9, lambda k: 0.7],
    )
    assert tracked(times, candidates).counts() == {"car": 1}
    # Other classes are not merged unless asked: a person in a car is two objects.
    times, candidates = frames_of(
        lambda t: (100, 100),
        lambda t: (102, 101),
        seconds=2,
        labels=[lambda k: "car", lambda k: "person"],
    )
    both = tracked(times, candidates)
    assert both.counts() == {"car": 1, "person": 1}
    assert tracked(times, candidates, class_agnostic=True).counts() == {"car": 1}
    # The class filter on objects: no tracking again.
    people = both.of_labels(["person"])
    assert people.counts() == {"person": 1} and set(people.in_view()) == {"person"}
    assert {str(n) for f in people.frames for n in f.data["class_name"]} == {"person"}


def test_a_flicker_shorter_than_the_minimum_is_not_an_object() -> None:
    # A 5-frame box beside a steady one: what made a second person of one man.
    times, candidates = frames_of(
        lambda t: (100, 100), lambda t: (300, 100) if 1.0 <= t < 1.2 else None, seconds=4
    )
    assert tracked(times, candidates).counts() == {"square": 1}
    assert tracked(times, candidates, min_track_s=0.0).counts() == {"square": 2}


def test_a_short_gap_keeps_the_id_and_a_long_one_does_not() -> None:
    def hidden(start: float, end: float):
        return lambda t: None if start <= t < end else (20 + 40 * t, 100)

    times, candidates = frames_of(hidden(1.0, 2.5), seconds=5)
    assert len(tracked(times, candidates).tracks) == 1
    assert len(tracked(times, candidates, max_gap_s=0.5).tracks) == 2


def test_two_squares_crossing_a_line_in_opposite_directions_are_one_in_one_out() -> None:
    times, candidates = frames_of(
        lambda t: (20 + 100 * t, 50),  # left to right, above
        lambda t: (380 - 100 * t, 250),  # right to left, below
        seconds=3,
    )
    tracking = tracked(times, candidates)
    line = Line(200, 0, 200, 400, "gate")  # drawn downwards: "in" is moving right
    counted = count_regions(tracking, [line], [])
    assert counted.line_counts() == {"gate": {"in": {"square": 1}, "out": {"square": 1}}}
    assert sorted(c.direction for c in counted.crossings) == ["in", "out"]
    assert count_regions(tracking, [line.flipped()], []).line_counts() == {
        "gate": {"in": {"square": 1}, "out": {"square": 1}}
    }
    # Beside the line's end, nothing crosses it.
    short = Line(200, 300, 200, 400, "short")
    assert count_regions(tracking, [short], []).line_counts()["short"]["in"] == {}


def test_a_square_staying_two_seconds_in_a_zone_dwells_two_seconds() -> None:
    times, candidates = frames_of(
        lambda t: (300, 100) if 1.0 <= t < 3.0 else None,  # in the zone from 1 s to 3 s
        lambda t: (20 + 100 * t, 300),  # passes below it
        seconds=4,
    )
    zone = Zone(((250, 50), (380, 50), (380, 200), (250, 200)), "shop")
    counted = count_regions(tracked(times, candidates), [], [zone])
    (visit,) = counted.visits
    # Seen with an id from its second frame: 2 s less one frame.
    assert visit.dwell_s == pytest.approx(2.0 - 1 / FPS)
    assert counted.zone_counts() == {
        "shop": {"square": {"entered": 1, "mean_dwell_s": pytest.approx(2.0, abs=0.05)}}
    }


def test_a_missed_detection_inside_a_zone_counts_as_inside() -> None:
    def blinking(t: float):
        return None if 1.0 <= t < 1.4 else (300, 100)

    times, candidates = frames_of(blinking, seconds=3)
    zone = Zone(((250, 50), (380, 50), (380, 200), (250, 200)), "shop")
    (visit,) = count_regions(tracked(times, candidates), [], [zone]).visits
    assert visit.dwell_s == pytest.approx(3.0 - 1 / FPS)


@pytest.mark.parametrize(
    ("text", "message"),
    [("a=1,2,3", "four numbers"), ("=1,2,3,4", "name"), ("1,1,1,1", "two different")],
)
def test_a_bad_line_is_one_sentence(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Line.parse(text)


def test_lines_and_zones_parse_with_names() -> None:
    assert Line.parse("door=1,2,3,4") == Line(1, 2, 3, 4, "door")
    assert Zone.parse("0,0,10,0,10,10").points == ((0, 0), (10, 0), (10, 10))
    with pytest.raises(InputError, match="no area"):
        Zone.parse("z=0,0,5,5,10,10")


def test_counting_frame_by_frame_gives_what_counting_at_once_gives() -> None:
    # The annotated video counts as it plays; the page counts all tracks at once.
    def wandering(phase: float):
        return lambda t: (200 + 150 * np.sin(t + phase), 150 + 100 * np.cos(1.3 * t + phase))

    times, candidates = frames_of(wandering(0), wandering(2), wandering(4), seconds=12)
    tracking = tracked(times, candidates)
    lines = [Line(200, 0, 200, 400, "v"), Line(0, 150, 400, 150, "h")]
    zones = [Zone(((100, 100), (300, 100), (300, 260), (100, 260)), "z")]
    counter = RegionCounter(lines, zones, period_s=1 / FPS)
    for t, frame in zip(tracking.times, tracking.frames, strict=True):
        counter.update(t, frame.tracker_id, frame.data["class_name"], frame.xyxy)
    at_once, played = count_regions(tracking, lines, zones), counter.counts()
    assert len(at_once.crossings) > 6
    assert at_once.crossings == played.crossings
    assert at_once.line_counts() == played.line_counts()
    assert at_once.zone_counts() == played.zone_counts()
