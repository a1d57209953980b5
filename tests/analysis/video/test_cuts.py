"""Scene cuts on generated frames with known answers: a new shot is a cut, motion is not, and
tracks end at cuts."""

from __future__ import annotations

import numpy as np

from analysis.video.cuts import Candidates, is_cut, thumbnail
from analysis.video.tracking import track_all
from analysis.vision.detections import DetectionFilter, Detections

FPS = 25.0


def street(shift: int) -> np.ndarray:
    """A grey street with a dark car ``shift`` px from the left, 320×240."""
    rgb = np.full((240, 320, 3), 150, np.uint8)
    rgb[150:, :] = (90, 90, 95)
    rgb[120:170, 20 + shift : 100 + shift] = (20, 20, 120)
    return rgb


def room() -> np.ndarray:
    """Another shot: a warm room, a window."""
    rgb = np.full((240, 320, 3), (160, 90, 40), np.uint8)
    rgb[40:120, 200:280] = (230, 230, 255)
    return rgb


def test_a_new_shot_is_a_cut_and_motion_is_not() -> None:
    frames = [street(6 * k) for k in range(10)] + [room(), room()]
    thumbs = [thumbnail(f) for f in frames]
    cuts = [k for k in range(len(thumbs)) if is_cut(thumbs[k - 1] if k else None, thumbs[k])]
    assert cuts == [10]


def test_a_track_ends_at_a_cut() -> None:
    """A box standing still for 4 s is one object; with a cut at 2 s, two (one a shot)."""
    times = np.arange(100) / FPS
    box = Detections([[100, 100, 140, 140]], [0.9], [0], ("person",))
    plain = [box] * 100
    assert len(track_all(times, plain, DetectionFilter(0.5), FPS).tracks) == 1
    cut = Candidates(plain, cuts=(50,))
    tracks = track_all(times, cut, DetectionFilter(0.5), FPS).tracks
    assert [(round(t.first_s, 2), round(t.last_s, 2)) for t in tracks] == [
        (0.04, 1.96),
        (2.04, 3.96),
    ]
