"""The Video page in real Chromium: drop a video, the annotated video loads and plays."""

from __future__ import annotations

import pytest

from tests.analysis.video.test_pipeline import write_video
from tests.conftest import drop_file, screenshot

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")


def test_drop_a_video_and_the_annotated_video_plays(page, app_url, tmp_path):
    video = write_video(tmp_path / "moving square.mp4", 75)  # 3 s at 25 fps
    page.goto(f"{app_url}/video")
    page.get_by_role("heading", name="Video").first.wait_for()
    drop_file(page, video, "video/mp4")
    page.get_by_text("moving square.mp4 — 160×120 px").wait_for(timeout=120_000)
    page.get_by_role("heading", name="Frame by frame").wait_for(timeout=120_000)
    annotated = page.locator('[data-testid="stVideo"]').first
    annotated.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stVideo\"]').readyState >= 2"
    )
    annotated.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stVideo\"]').currentTime > 0.3"
    )
    assert annotated.evaluate("v => v.videoWidth") == 160
    screenshot(page, "video_dropped_square")
