"""Steering an analysis: named lines and zones on the command line and in the annotated
video, the live preview of a pass under way, and Stop."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np

from analysis.video.pipeline import PassStatus, RenderSettings
from analysis.video.regions import Line, Zone
from tests.analysis.video.test_pipeline import FPS, FRAMES, HEIGHT, WIDTH, analyse

ROOT = Path(__file__).resolve().parents[3]


def first_frame(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_the_cli_counts_named_lines_and_zones(square_mp4: Path) -> None:
    # The square (20 px, from x = 10, 3 px a frame, rows 50-70) crosses x = 80 rightwards.
    command = [sys.executable, "-m", "analysis", "video", str(square_mp4), "--json"]
    regions = [
        "--line",
        "gate=80,0,80,120",
        "--line",
        "80,120,80,0",
        "--zone",
        "end=100,0,160,0,160,120",
    ]
    result = subprocess.run(
        [*command, *regions, "--model", "hog-people", "--min-track-s", "0.2"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    payload = json.loads(result.stdout)
    # HOG finds no people in a white square: every region is present, with nothing counted.
    assert payload["lines"] == {
        "gate": {"in": {}, "out": {}}, "line 2": {"in": {}, "out": {}},
    }  # fmt: skip
    assert payload["zones"] == {"end": {}}
    assert payload["rules"]["min_track_s"] == 0.2


def test_a_bad_region_on_the_command_line_is_one_sentence(square_mp4: Path) -> None:
    command = [sys.executable, "-m", "analysis", "video", str(square_mp4), "--zone", "z=1,2,3"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: The zone must be at least three x,y corners")


def test_the_annotated_video_draws_lines_and_zones_with_their_counts(square_mp4: Path) -> None:
    out = io.BytesIO()
    zone = Zone(((100, 10), (150, 10), (150, 40), (100, 40)), "corner")
    analysis = analyse(
        square_mp4, lines=[Line(80, 0, 80, HEIGHT, "gate")], zones=[zone], output=out
    )
    assert [line.name for line in analysis.lines] == ["gate"]
    first = first_frame(out.getvalue())
    assert first[90:110, 79:82].mean() > 200  # the line, white, below the square
    assert first[10:40, 100].mean() > 150 and first[25, 125].mean() > 20  # outline, fill
    assert first[30, 84:87].mean() > 200  # the "in" arrow, pointing right, a quarter down
    assert first[100, 40].mean() < 10  # nothing drawn away from them


def test_the_preview_shows_the_latest_drawn_frame_about_once_a_second(
    square_mp4: Path, monkeypatch
) -> None:
    import analysis.video.pipeline

    monkeypatch.setattr(analysis.video.pipeline, "PREVIEW_EVERY_S", 0.0)  # every frame
    seen: list[PassStatus] = []
    analysis = analyse(square_mp4, preview=seen.append, render=RenderSettings(80))
    assert len(seen) == FRAMES  # drawn though no video is written
    assert all(status.frame.shape == (HEIGHT // 2, WIDTH // 2, 3) for status in seen)
    assert [s.time_s for s in seen] == sorted(s.time_s for s in seen)
    last = seen[-1]
    assert last.done == last.expected == FRAMES and last.fps > 0 and last.left_s == 0
    assert last.counts == analysis.tracking.counts() == {"square": 1}


def test_stop_keeps_what_was_analysed_and_a_playable_video(square_mp4: Path) -> None:
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 20:
            stop.set()

    out = io.BytesIO()
    analysis = analyse(square_mp4, progress=progress, stop=stop, output=out)
    assert analysis.stopped and 20 <= len(analysis.times) < FRAMES
    assert analysis.tracking.counts() == {"square": 1}
    with av.open(io.BytesIO(out.getvalue())) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == len(analysis.times)
    assert analysis.times[-1] < FRAMES / FPS
