"""Live camera speed at 640×480 with YOLOX-Nano: ``python bench/bench_live.py``.

Two measurements against the 15 frames-per-second target:

1. **Callback** — the page's frame callback alone (VP8-decoded-like yuv420p frames in,
   annotated frames out) on frames of OpenCV's vtest.avi scaled to 640×480, back to back:
   the most the server's analysis can do.
2. **Browser** — the whole path: the app served by Streamlit, Chromium's fake camera
   playing a Y4M made from the same clip at 30 fps, VP8 over WebRTC to aiortc, the callback,
   and back. Reports the processed frame rate and per-frame time the page shows, what
   Chromium sends and receives (from its ``RTCPeerConnection`` statistics), and why its
   encoder limits itself, if it does.

The clip comes from Debian's opencv-doc (installed, or ``--video PATH``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.live.camera import LiveSettings, LiveVideo
from analysis.video.pipeline import video_detector
from analysis.vision.detections import DetectionFilter
from tests.support.live_app import CHROMIUM, running_app
from tests.support.live_camera import (
    CAPTURE_PCS_JS,
    fake_media_args,
    make_y4m,
    read_stats,
    start_camera,
)

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
TARGET_FPS = 15.0
SIZE = (640, 480)

RTC_STATS_JS = """async () => {
    const pc = window.__pcs[window.__pcs.length - 1];
    const out = {};
    (await pc.getStats()).forEach((s) => {
        if (s.kind !== 'video') return;
        if (s.type === 'outbound-rtp') {
            out.sent = s.framesSent; out.sentSize = [s.frameWidth, s.frameHeight];
            out.limitedBy = s.qualityLimitationReason;
        }
        if (s.type === 'inbound-rtp') {
            out.received = s.framesDecoded; out.receivedSize = [s.frameWidth, s.frameHeight];
        }
    });
    return out;
}"""


def callback_run(video: Path, model: str, frames: int) -> tuple[float, list[float]]:
    """Frames per second and per-frame milliseconds of the frame callback, back to back."""
    live = LiveVideo(LiveSettings(model, video_detector(model), DetectionFilter(0.5)))
    inputs = []
    with av.open(str(video)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == frames:
                break
            inputs.append(frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p"))
    live.frame_callback(inputs[0])  # warm-up
    spent = []
    start = time.perf_counter()
    for frame in inputs:
        begin = time.perf_counter()
        live.frame_callback(frame)
        spent.append((time.perf_counter() - begin) * 1000)
    return len(inputs) / (time.perf_counter() - start), spent


def browser_run(y4m: Path, seconds: float, warmup: float) -> dict[str, object]:
    """Stream ``y4m`` through the Live page in Chromium; what the page and Chromium saw."""
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as folder,
        running_app(Path(folder) / "server.log") as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=fake_media_args(y4m))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.add_init_script(CAPTURE_PCS_JS)  # runs in the component's iframe too
        frame = start_camera(page, url)
        time.sleep(warmup)  # the encoder's bitrate ramps up first
        first, rtc_first, t0 = read_stats(page), frame.evaluate(RTC_STATS_JS), time.time()
        shown_fps, shown_ms, sizes = [], [], set()
        while time.time() - t0 < seconds:
            time.sleep(1.0)
            stats = read_stats(page)
            shown_fps.append(stats.fps)
            shown_ms.append(stats.frame_ms)
            sizes.add(tuple(frame.evaluate(RTC_STATS_JS)["sentSize"]))
        last, rtc_last = read_stats(page), frame.evaluate(RTC_STATS_JS)
        elapsed = time.time() - t0
        browser.close()
    return {
        "processed_fps": (last.frames - first.frames) / elapsed,
        "shown_fps_median": statistics.median(shown_fps),
        "frame_ms_median": statistics.median(shown_ms),
        "sent_fps": (rtc_last["sent"] - rtc_first["sent"]) / elapsed,
        "received_fps": (rtc_last["received"] - rtc_first["received"]) / elapsed,
        "sent_sizes": sorted(sizes),
        "limited_by": rtc_last["limitedBy"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VTEST)
    parser.add_argument("--model", default="yolox-nano")
    parser.add_argument("--frames", type=int, default=150, help="callback frames")
    parser.add_argument("--seconds", type=float, default=30.0, help="browser measurement")
    parser.add_argument("--warmup", type=float, default=20.0, help="browser seconds before it")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    if not args.video.exists():
        print(f"{args.video} is missing: apt-get install opencv-doc, or pass --video PATH")
        return 1

    fps, spent = callback_run(args.video, args.model, args.frames)
    print(f"Callback alone, {SIZE[0]}×{SIZE[1]}, {args.model}, {len(spent)} frames:")
    print(
        f"  {fps:.1f} fps ({fps / TARGET_FPS:.2f}× the {TARGET_FPS:.0f} fps target); per frame "
        f"median {np.median(spent):.1f} ms, 90th percentile {np.percentile(spent, 90):.1f} ms"
    )
    if args.skip_browser:
        return 0

    with tempfile.TemporaryDirectory() as folder:
        y4m = make_y4m(args.video, Path(folder) / "camera.y4m", SIZE)
        result = browser_run(y4m, args.seconds, args.warmup)
    processed = result["processed_fps"]
    print(f"Browser → WebRTC → server → browser, {args.seconds:.0f} s after {args.warmup:.0f} s:")
    print(
        f"  processed {processed:.1f} fps ({processed / TARGET_FPS:.2f}× the target); page "
        f"showed median {result['shown_fps_median']:.1f} fps, "
        f"{result['frame_ms_median']:.0f} ms per frame"
    )
    print(
        f"  Chromium sent {result['sent_fps']:.1f} fps at {result['sent_sizes']} px "
        f"(encoder limited by: {result['limited_by']}), "
        f"received {result['received_fps']:.1f} fps back"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
