"""Fixtures of the video tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.video.test_pipeline import write_video


@pytest.fixture(scope="module")
def square_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The moving square, 40 frames at 25 fps, no sound."""
    return write_video(tmp_path_factory.mktemp("video") / "square.mp4")
