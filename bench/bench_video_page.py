"""Steering the Video page on an analysed video: ``python bench/bench_video_page.py``.

OpenCV's vtest.avi (795 frames, 80 s) is analysed once with YOLOX-Nano (every ``--stride``-th
frame), then the page runs in Streamlit's AppTest on that result and each step is timed as
one whole script run, the server's part of what a person waits for:

- a rerun that changes nothing (a pause: the table of the paused frame);
- a counting line drawn, then two lines and a zone (counted from the stored tracks);
- a class filter (objects kept whole, nothing tracked again);
- a confidence change (filtered and tracked again, no inference).

Target (issue 19): every step under 0.5 s. The browser's own part (sending the drawing,
drawing the new counts) is measured by tests/browser/test_video.py's clicks, not here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from streamlit.testing.v1 import AppTest

import ui.sections.video_analysis
from analysis.video.pipeline import analyse_video, video_detector
from analysis.video.regions import Line, Zone
from analysis.vision.detections import DEFAULT_CONFIDENCE, DetectionFilter
from ui.sections.video_analysis import Analysed
from ui.video_view import Shapes

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "video.py")
TARGET_S = 0.5
ONE_LINE = Shapes((Line(0, 300, 768, 300, "Path"),))
TWO_LINES_A_ZONE = Shapes(
    (Line(0, 300, 768, 300, "Path"), Line(400, 0, 400, 576, "Post")),
    (Zone(((100, 300), (400, 300), (400, 576), (100, 576)), "Lawn"),),
)


def timed_run(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    params = DetectionFilter(DEFAULT_CONFIDENCE, 0.45)
    started = time.perf_counter()
    analysis = analyse_video(
        args.video, video_detector("yolox-nano"), "yolox-nano", params, stride=args.stride
    )
    print(f"analysed {len(analysis.times)} frames in {time.perf_counter() - started:.1f} s")
    result = Analysed(analysis, b"", ("video", "bench", "yolox-nano", args.stride, params))
    ui.sections.video_analysis.analysed = lambda *args, **kwargs: result  # the page's import

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["video_sample"] = True
    at.run()
    shapes_key = "video_shapes_sample:vtest"
    steps: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        at.session_state[shapes_key] = Shapes()
        at.session_state["video_conf"] = DEFAULT_CONFIDENCE
        at.run()
        steps.setdefault("rerun (a pause)", []).append(timed_run(at))
        at.session_state[shapes_key] = ONE_LINE
        steps.setdefault("a line drawn", []).append(timed_run(at))
        at.session_state[shapes_key] = TWO_LINES_A_ZONE
        steps.setdefault("two lines and a zone", []).append(timed_run(at))
        at.multiselect[0].select("person")
        steps.setdefault("class filter", []).append(timed_run(at))
        at.multiselect[0].unselect("person")
        at.run()
        at.slider(key="video_conf").set_value(DEFAULT_CONFIDENCE + 0.1)
        steps.setdefault("confidence change (re-track)", []).append(timed_run(at))
        at.session_state["_video_memo"] = None  # the next round tracks again, as a new setting
    worst = 0.0
    for name, seconds in steps.items():
        median = statistics.median(seconds)
        worst = max(worst, median)
        print(f"{name:32s} median {median:.3f} s  (runs {', '.join(f'{s:.3f}' for s in seconds)})")
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"worst median {worst:.3f} s, target {TARGET_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
