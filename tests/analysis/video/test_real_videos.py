"""Real video nobody here made, from Debian's opencv-doc, tracked with YOLOX-Nano: what a
person counts by eye on it is what the analysis says (frames looked at by eye)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.video.io import Mp4Writer, VideoFile, probe
from analysis.video.pipeline import VideoAnalysis, analyse_video, video_detector
from analysis.video.tracking import CONFUSABLE, track_all
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from tests.conftest import require_model

pytestmark = pytest.mark.slow

VEHICLES = next(group for group in CONFUSABLE if "car" in group)
MEGAMIND_LAST_SHOT_S = 8.38  # the cut to the close-up of one man, to the end (11.26 s)


def analysed(path: Path, stride: int = 1) -> VideoAnalysis:
    require_model("yolox-nano")
    detector = video_detector("yolox-nano")
    return analyse_video(
        path, detector, "yolox-nano", DetectionFilter(DEFAULT_CONFIDENCE), stride=stride
    )


@pytest.fixture(scope="module")
def vtest(opencv_data: Path) -> VideoAnalysis:
    """vtest.avi (768×576, 10 fps, 795 frames): pedestrians on a street corner, and a white
    van and a blue car parked at the top right for the whole 80 s."""
    info = probe(opencv_data / "vtest.avi")
    assert (info.width, info.height, info.frames, info.fps) == (768, 576, 795, 10.0)
    return analysed(opencv_data / "vtest.avi", stride=2)


def test_pedestrians_are_tracked_as_people(vtest: VideoAnalysis) -> None:
    counts = vtest.tracking.counts()
    assert max(counts, key=counts.get) == "person"
    # A dozen or so people walk through; tracking, not per-frame boxes, is what counts.
    boxes = sum(len(frame) for frame in vtest.tracking.frames)
    assert 8 <= counts["person"] <= 40 < boxes
    assert max(t.duration_s for t in vtest.tracking.tracks if t.label == "person") > 10
    # The blue sign on a post at the left (x < 60, y 100-150), seen as a person: one track
    # all along (a passer-by does not take it over), whose mean score says it is unsure,
    # below every person's.
    at_sign = [t for t in vtest.tracking.tracks if t.id in _ids_near(vtest, 40, 126)]
    (sign,) = [t for t in at_sign if t.duration_s > 70]
    others = [t for t in vtest.tracking.tracks if t.label == "person" and t is not sign]
    assert sign.mean_score < 0.6 < min(t.mean_score for t in others)


def _ids_near(analysis: VideoAnalysis, x: float, y: float) -> set[int]:
    """Tracks whose box held the point (x, y) in some frame."""
    return {
        int(i)
        for frame in analysis.tracking.frames
        for i, (x1, y1, x2, y2) in zip(frame.tracker_id, frame.xyxy, strict=True)
        if x1 <= x <= x2 and y1 <= y <= y2
    }


def test_the_two_parked_vehicles_are_counted_once_each(vtest: VideoAnalysis) -> None:
    vehicles = [t for t in vtest.tracking.tracks if t.label in VEHICLES]
    assert len(vehicles) == 2
    assert all(t.duration_s > 75 for t in vehicles)
    # The legend and the in-view chart name what the counts name, nothing else.
    assert set(vtest.tracking.in_view()) == set(vtest.tracking.counts())


def test_a_single_man_on_screen_is_one_person(opencv_data: Path, tmp_path: Path) -> None:
    """Megamind.avi's last shot: one man in close-up for 2.9 s (a second, brief track on
    him once made two)."""
    shot = tmp_path / "one-man.mp4"
    with VideoFile(opencv_data / "Megamind.avi") as video:
        writer = Mp4Writer(shot, (video.info.width, video.info.height), video.info.fps, crf=18)
        for frame in video.frames():
            if frame.time_s >= MEGAMIND_LAST_SHOT_S:
                writer.write(frame.rgb, frame.time_s - MEGAMIND_LAST_SHOT_S)
        writer.close()
    assert analysed(shot).tracking.counts() == {"person": 1}


def test_no_track_runs_across_megamind_s_scene_cuts(opencv_data: Path) -> None:
    """Megamind.avi cuts from black at 0.08 s, then to other shots at 4.13, 6.46 and 8.38 s
    (seen frame by frame): tracks end there, and a replay with new settings keeps them so."""
    analysis = analysed(opencv_data / "Megamind.avi")
    cut_s = [float(analysis.times[k]) for k in analysis.candidates.cuts]
    assert cut_s == pytest.approx([0.08, 4.13, 6.46, 8.38], abs=0.03)
    again = track_all(analysis.times, analysis.candidates, DetectionFilter(0.5, 0.6), 23.976)
    for tracking in (analysis.tracking, again):
        for track in tracking.tracks:
            assert not any(track.first_s < t <= track.last_s for t in cut_s), track
    # The last shot: the man in close-up, one person.
    assert [t.label for t in again.tracks if t.first_s >= cut_s[-1]] == ["person"]
