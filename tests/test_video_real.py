"""Real video nobody here made: OpenCV's pedestrian clip, tracked with YOLOX-Nano."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.detections import DetectionFilter
from analysis.video import analyse_video, probe, video_detector
from tests.conftest import require_model, skip_or_fail

INSTALLED = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@pytest.fixture(scope="session")
def vtest_avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vtest.avi (768×576, 10 fps, 795 frames of pedestrians) from Debian's opencv-doc:
    the installed package's copy, else the package fetched with apt-get into a temp dir."""
    if INSTALLED.exists():
        return INSTALLED
    folder = tmp_path_factory.mktemp("opencv-doc")
    if shutil.which("apt-get") and shutil.which("dpkg-deb"):
        fetched = subprocess.run(
            ["apt-get", "download", "opencv-doc"], cwd=folder, capture_output=True
        )
        for deb in folder.glob("opencv-doc*.deb") if fetched.returncode == 0 else []:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(folder / "x")], check=True)
            return folder / "x" / INSTALLED.relative_to("/")
    skip_or_fail(
        "vtest.avi needs Debian's opencv-doc (apt-get download opencv-doc)", "PERCEPT_REQUIRE_TOOLS"
    )
    raise AssertionError  # unreachable: skip_or_fail raises


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
