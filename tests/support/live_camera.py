"""Chromium's fake camera on a real video, and driving the Live page's WebRTC component.

Used by ``tests/browser/test_live.py`` and ``bench/bench_live.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import av

from tests.support.live_app import CHROMIUM_ARGS

STATS = re.compile(r"([\d.]+) fps · (\d+) ms per frame · (\d+) frames")

# Keeps every RTCPeerConnection a frame creates, so its settings and statistics can be read.
CAPTURE_PCS_JS = """(() => {
    const Original = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
        const pc = new Original(...args);
        window.__pcs.push(pc);
        return pc;
    };
    window.RTCPeerConnection.prototype = Original.prototype;
})();"""

PLAYING_JS = """(after) => {
    const video = document.querySelector('video');
    return video !== null && !video.paused && video.readyState >= 2
        && video.currentTime > after;
}"""


VIDEO_STATE_JS = """() => {
    const video = document.querySelector('video');
    const tracks = video && video.srcObject && video.srcObject.getTracks();
    return video && {paused: video.paused, readyState: video.readyState, time: video.currentTime,
                     tracks: tracks && tracks.map((track) => track.readyState)};
}"""


def fake_media_args(y4m: Path, wav: Path | None = None) -> list[str]:
    """Chromium flags: grant media access without asking, camera frames from ``y4m``."""
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ]
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}")
    return args


def make_y4m(
    video: Path, out: Path, size: tuple[int, int] = (640, 480), fps: int = 30, frames: int = 150
) -> Path:
    """The first ``frames`` frames of ``video`` scaled to ``size``, as a Y4M at ``fps``.

    Chromium's fake camera loops the file at the rate in its header; 30 fps gives the
    server more frames than it needs for the 15 fps target, so dropping is exercised.
    """
    with av.open(str(video)) as source, av.open(str(out), "w", format="yuv4mpegpipe") as sink:
        stream = sink.add_stream("rawvideo", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index, frame in enumerate(source.decode(video=0)):
            if index == frames:
                break
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            scaled.pts = index
            sink.mux(stream.encode(scaled))
        sink.mux(stream.encode(None))
    return out


@dataclass(frozen=True)
class Stats:
    fps: float
    frame_ms: int
    frames: int


def read_stats(page) -> Stats | None:
    """The Live page's "N fps · M ms per frame · K frames" line, or None when not shown."""
    line = page.get_by_text(STATS)
    if not line.count():
        return None
    match = STATS.search(line.first.inner_text())
    return Stats(float(match[1]), int(match[2]), int(match[3])) if match else None


def webrtc_frame(page):
    """The WebRTC component's iframe (its Start/Stop buttons and video element)."""
    iframe = page.locator('iframe[title="streamlit_webrtc.component.webrtc_streamer"]')
    iframe.wait_for()
    return iframe.element_handle().content_frame()


def start_camera(page, url: str, reload: bool = True):
    """Open the Live page (unless ``reload`` is False and it is open), press Start and wait
    until the annotated video plays."""
    if reload or not urlsplit(page.url).path.endswith("/live"):
        page.goto(f"{url}/live")
    page.get_by_role("heading", name="Live").first.wait_for()
    # A run still going (a fresh server's first visit reruns) would replace the component
    # under the click, and the stream with it.
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    frame = webrtc_frame(page)
    frame.get_by_role("button", name="Start").click()
    try:
        frame.wait_for_function(PLAYING_JS, arg=0.5)
    except Exception as error:  # say what the component shows, not just "timeout"
        state = frame.evaluate(VIDEO_STATE_JS)
        text = frame.locator("body").inner_text()
        message = f"the camera did not play: video {state}, component {text!r}"
        raise AssertionError(message) from error
    page.get_by_text(STATS).wait_for()
    return frame


def wait_for_frames(page, count: int) -> None:
    """Wait until the page's statistics count more than ``count`` processed frames."""
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('p')].some((p) => {"
        "  const m = p.innerText.match(/(\\d+) frames$/); return m && Number(m[1]) > n; })",
        arg=count,
    )
