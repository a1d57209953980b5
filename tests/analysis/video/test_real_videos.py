"""Real video nobody here made: OpenCV's pedestrian clip, tracked with YOLOX-Nano."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.video.io import probe
from analysis.video.pipeline import analyse_video, video_detector
from analysis.vision.detections import DetectionFilter
from tests.conftest import require_model


@pytest.fixture(scope="session")
def vtest_avi(opencv_data: Path) -> Path:
    """vtest.avi (768×576, 10 fps, 795 frames of pedestrians) from Debian's opencv-doc."""
    return opencv_data / "vtest.avi"


def test_pedestrians_are_tracked_as_people(vtest_avi: Path) -> None:
    require_model("yolox-nano")
    info = probe(vtest_avi)
    assert (info.width, info.height, info.frames, info.fps) == (768, 576, 795, 10.0)
    analysis = analyse_video(
        vtest_avi, video_detector("yolox-nano"), "yolox-nano", DetectionFilter(0.4), stride=2
    )
    counts = analysis.tracking.counts()
    assert max(counts, key=counts.get) == "person"
    # A dozen or so people walk through; tracking, not per-frame boxes, is what counts.
    boxes = sum(len(frame) for frame in analysis.tracking.frames)
    assert 8 <= counts["person"] <= 80 < boxes
    assert max(t.duration_s for t in analysis.tracking.tracks if t.label == "person") > 10
