"""Benchmark: the interactive spectrogram (ui/spectrogram_view) in Chromium, issue 14.

Targets: dragging a box for a 5-second window of a 30-minute file (from a 100-second view of
it: on the whole file such a box is 3 px wide, which the view takes for a click) shows the new
full-resolution picture (its hop fitted to the view: a frame per pixel column) in under
0.5 s (from releasing the pointer to the picture's ``load`` event: the trigger, the rerun,
the spectrogram and the JPEG, and the browser fetching and decoding it); a layer toggle
(pitch over the picture) is painted in under 0.3 s; during playback the playhead moves on
every display frame, with no message to the server.

Runs the test harness (tests/support/apps/spectrogram_view_app.py, a 30-minute 1 kHz tone at
22.05 kHz) in Debian's Chromium and prints each time and its ratio to the target. By hand:
``python bench/bench_spectrogram_view.py`` (about a minute).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

SECONDS = 1800.0
WINDOW_S = 5.0
ZOOM_TARGET_S = 0.5
REPEATS = 5
PLOT = (84, 16, 996, 406)  # the picture's plot area (SPECTROGRAM_LAYOUT), picture pixels
IMAGE = (1200, 480)
PLAY_S = 2.0

# In-page timers: when the pointer was released, and when a picture other than the one shown
# then had loaded. The component may draw into a new element on a rerun, so the picture is
# looked up again on each display frame (through shadow roots) rather than watched.
WATCH_ZOOM = """img => {
    window.zoomTimes = {up: 0, loaded: 0};
    const picture = () => {
        for (const host of document.querySelectorAll('*')) {
            const found = host.shadowRoot?.querySelector('.sv-picture');
            if (found) return found;
        }
        return document.querySelector('.sv-picture');
    };
    const before = img.getAttribute('src');
    document.addEventListener('pointerup', () => {
        window.zoomTimes.up = performance.now();
        const check = () => {
            const shown = picture();
            if (shown && shown.getAttribute('src') !== before && shown.complete
                && shown.naturalWidth) {
                window.zoomTimes.loaded = performance.now();
            } else {
                requestAnimationFrame(check);
            }
        };
        requestAnimationFrame(check);
    }, {capture: true, once: true});
}"""
# A layer toggled: from the click to the frame after the next one (the new overlay painted).
TIME_TOGGLE = """box => new Promise((done) => {
    const start = performance.now();
    box.click();
    requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));
})"""
TOGGLE_TARGET_S = 0.3
# Display frames, and playhead moves, counted over the same time while playing.
COUNT_FRAMES = """(playhead, seconds) => new Promise((done) => {
    let frames = 0, moves = 0;
    const observer = new MutationObserver(() => moves++);
    observer.observe(playhead, {attributes: true, attributeFilter: ['style']});
    const start = performance.now();
    const frame = (now) => {
        frames++;
        if (now - start < seconds * 1000) return requestAnimationFrame(frame);
        observer.disconnect();
        done({frames, moves, seconds: (now - start) / 1000});
    };
    requestAnimationFrame(frame);
})"""


def start_harness(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "tests/support/apps/spectrogram_view_app.py",
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("The harness did not start.")


def screen(page, seconds: float, y: float, view: tuple[float, float]) -> tuple[float, float]:
    """Page coordinates of a time on the picture of ``view`` (s), at picture row ``y``."""
    box = page.locator(".sv-picture").bounding_box()
    x = PLOT[0] + (seconds - view[0]) / (view[1] - view[0]) * PLOT[2]
    return box["x"] + x * box["width"] / IMAGE[0], box["y"] + y * box["height"] / IMAGE[1]


def drag_box(page, start_s: float, end_s: float, view: tuple[float, float]) -> float:
    """Drag a box over [start_s, end_s] of the picture of ``view``; seconds from releasing
    the pointer to the new picture loaded."""
    page.locator(".sv-picture").evaluate(WATCH_ZOOM)
    page.mouse.move(*screen(page, start_s, PLOT[1] + 40, view))
    page.mouse.down()
    page.mouse.move(*screen(page, end_s, PLOT[1] + 360, view), steps=4)
    page.mouse.up()
    page.wait_for_function("() => window.zoomTimes.loaded > window.zoomTimes.up")
    return page.evaluate("() => window.zoomTimes.loaded - window.zoomTimes.up") / 1000


def shown_view(page) -> tuple[float, float]:
    text = page.locator(".sv-clock").inner_text()
    start, end = re.search(r"view ([\d.]+)–([\d.]+) s", text).groups()
    return float(start), float(end)


def zoom_once(page, start_s: float) -> float:
    """Zoom to [start_s, start_s + WINDOW_S] in two drags, the second one timed: first over
    100 s around it (a 5-second box on the whole 30-minute picture is 3 px wide, which the
    view takes for a click, as a person's hand would make it), then over the 5 s."""
    drag_box(page, start_s - 47.5, start_s + 52.5, (0.0, SECONDS))
    seconds = drag_box(page, start_s, start_s + WINDOW_S, shown_view(page))
    low, high = shown_view(page)
    assert abs(low - start_s) < 0.5 and abs(high - low - WINDOW_S) < 0.5, (low, high)
    return seconds


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = start_harness(port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            sent = []
            page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
            page.goto(f"http://127.0.0.1:{port}/?seconds={SECONDS:g}&layers=1")
            page.locator(".sv-clock", has_text=f"view 0.0–{SECONDS:.1f} s").wait_for()

            latencies = []
            for i in range(REPEATS):
                latencies.append(zoom_once(page, 300.0 + 250.0 * i))
                if i < REPEATS - 1:
                    page.locator(".sv-reset").click()
                    page.locator(".sv-clock", has_text=f"view 0.0–{SECONDS:.1f} s").wait_for()
            median = statistics.median(latencies)
            print(
                f"zoom to {WINDOW_S:g} s of a {SECONDS / 60:g}-minute file, pointer up to picture:"
            )
            print("  " + ", ".join(f"{s:.3f}" for s in latencies) + " s")
            print(f"  median {median:.3f} s = {median / ZOOM_TARGET_S:.2f} × the 0.5 s target")
            caption_hop = page.locator(".sv-picture").evaluate("i => i.naturalWidth")
            pitch = page.locator("input[data-layer='Pitch (F0)']")
            toggles = [pitch.evaluate(TIME_TOGGLE) / 1000 for _ in range(2 * REPEATS)]
            toggle = statistics.median(toggles)
            print(f"layer toggle (pitch), click to the overlay painted, picture {caption_hop} px:")
            print("  " + ", ".join(f"{s:.3f}" for s in toggles) + " s")
            print(f"  median {toggle:.3f} s = {toggle / TOGGLE_TARGET_S:.2f} × the 0.3 s target")

            page.locator(".sv-play").click()
            page.locator(".sv-play", has_text="Pause").wait_for()
            sent_before = len(sent)
            counts = page.locator(".sv-playhead").evaluate(COUNT_FRAMES, PLAY_S)
            messages = len(sent) - sent_before
            browser.close()
        ratio = counts["moves"] / counts["frames"]
        print(f"playback, {counts['seconds']:.2f} s of a {WINDOW_S:g}-second view:")
        print(
            f"  {counts['frames']} display frames, {counts['moves']} playhead moves "
            f"= {ratio:.2f} of the frame rate ({counts['frames'] / counts['seconds']:.0f} per s)"
        )
        print(f"  {messages} messages to the server")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
