"""The Video page in real Chromium: the player plays, a line drawn with two clicks counts at
once, the timeline seeks the video, and the spoken word is highlighted as the video plays.

The page runs in a harness (tests/support/apps/video_page_app.py) whose detector finds the
white square of the generated videos; the video's soundtrack is a real recording (the
Harvard sentences of Debian's codec2-examples), transcribed by the real Whisper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from analysis.speech.whisper import DEFAULT_MODEL
from analysis.video.regions import Line
from tests.app.test_video_page import HARVARD, speech_video
from tests.conftest import drop_file, require_model, screenshot
from tests.support.live_app import PROJECT_ROOT, running_app

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api")

HARNESS = "tests/support/apps/video_page_app.py"
VIEW_JS = PROJECT_ROOT / "ui" / "video_view" / "view.js"
SECONDS = 10.8  # the recording's length: the video's


@pytest.fixture(scope="module")
def harness_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("video_page") / "server.log"
    with running_app(log_path, script=HARNESS) as url:
        yield url


@pytest.fixture(scope="module")
def harvard_video(tmp_path_factory: pytest.TempPathFactory):
    if not HARVARD.exists():
        pytest.skip("needs Debian's codec2-examples (the Harvard sentences)")
    return speech_video(tmp_path_factory.mktemp("video") / "harvard sentences.mp4")


def open_player(browser, url: str, video, width: int = 1400, height: int = 1100):
    """A fresh tab at ``width`` × ``height`` with ``video`` dropped and its player loaded."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("heading", name="Video").first.wait_for()
    drop_file(page, video, "video/mp4")
    player = page.locator(".vv-video")
    player.wait_for()
    player.evaluate(
        "v => v.readyState >= 2 ? 0 : new Promise(r => v.addEventListener('loadeddata', r))"
    )
    return page


def current_time(page) -> float:
    return page.locator(".vv-video").evaluate("v => v.currentTime")


def wait_for_video(page, condition: str, timeout_s: float = 30.0) -> None:
    """Until ``condition``, JavaScript about ``v`` (the player's video), holds; an error if
    it does not within ``timeout_s``."""
    page.locator(".vv-video").evaluate(
        f"""v => new Promise((done, fail) => {{
            const end = performance.now() + {timeout_s * 1000};
            const check = () => ({condition}) ? done()
                : performance.now() > end ? fail(new Error("not seen: {condition}"))
                : requestAnimationFrame(check);
            check();
        }})"""
    )


@pytest.fixture(scope="module")
def desktop(browser, harness_url, harvard_video):
    page = open_player(browser, harness_url, harvard_video)
    yield page
    page.context.close()


def test_the_player_plays_the_annotated_video(desktop) -> None:
    player = desktop.locator(".vv-video")
    assert player.evaluate("v => v.videoWidth") == 320
    desktop.locator(".vv-play").click()
    wait_for_video(desktop, "v.currentTime > 0.5")
    desktop.locator(".vv-play").click()
    # The label follows the video's "pause" event, a moment after the click.
    expect(desktop.locator(".vv-play")).to_have_text(re.compile(r"Play$"))
    assert desktop.locator(".vv-video").evaluate("v => v.paused")


def test_two_clicks_on_the_frame_draw_a_line_and_show_its_count(desktop) -> None:
    desktop.locator(".vv-add-line").click()
    box = desktop.locator(".vv-overlay").bounding_box()
    middle = box["x"] + box["width"] / 2
    desktop.mouse.click(middle, box["y"] + box["height"] * 0.1)  # top to bottom: "in" is right
    desktop.mouse.click(middle, box["y"] + box["height"] * 0.9)
    label = desktop.locator(".vv-overlay text", has_text="Line 1: in 1 · out 0")
    label.wait_for(timeout=30_000)  # counted on the server from the stored tracks
    row = desktop.locator('[data-testid="stDataFrame"]', has_text="Line 1")
    row.wait_for()
    screenshot(desktop, "video_line_drawn")
    desktop.locator(".vv-flip").click()  # the same line, "in" now to the left
    desktop.locator(".vv-overlay text", has_text="Line 1: in 0 · out 1").wait_for(timeout=30_000)


def test_a_zone_of_clicked_corners_counts_what_entered(desktop) -> None:
    desktop.locator(".vv-add-zone").click()
    box = desktop.locator(".vv-overlay").bounding_box()
    corners = [(0.4, 0.2), (0.7, 0.2), (0.7, 0.8), (0.4, 0.8), (0.4, 0.2)]  # back to the first
    for fx, fy in corners:
        desktop.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    desktop.locator(".vv-overlay text", has_text="Zone 1: 1 entered").wait_for(timeout=30_000)
    desktop.locator('[data-testid="stDataFrame"]', has_text="Zone 1").wait_for()
    desktop.locator(".vv-delete").click()  # the zone is still the one picked
    desktop.locator(".vv-overlay text", has_text="Zone 1").wait_for(state="detached")


def test_a_click_on_the_timeline_seeks_the_video(desktop) -> None:
    lanes = desktop.locator(".vv-lanes")
    box = lanes.bounding_box()
    left = 92  # the lanes' name column, CSS pixels (view.js LABEL_PX)
    for fraction in (0.75, 0.25):
        lanes.scroll_into_view_if_needed()  # a click by coordinates must land on the screen
        box = lanes.bounding_box()  # where it is now (the subtitles' choices may wrap above)
        x = box["x"] + left + fraction * (box["width"] - left)
        desktop.mouse.click(x, box["y"] + 10)
        wait_for_video(desktop, f"Math.abs(v.currentTime - {fraction * SECONDS}) < 0.1", 10)
    playhead = desktop.locator(".vv-playhead").bounding_box()
    assert playhead["x"] + 1 == pytest.approx(box["x"] + left + 0.25 * (box["width"] - left), abs=2)
    readout = desktop.locator(".vv-readout").inner_text()  # the pointer is on the first lane
    assert readout == "0:02.7 · 1 square in view", readout
    # Paused there: the table below shows that frame's detections (AppTest reads its rows).
    desktop.get_by_text(re.compile(r"Detections at 2\.[67]\d s")).wait_for(timeout=30_000)


def highlighted(page) -> tuple[str, float, float, float]:
    """The highlighted word, its start and end (s), and the video's time."""
    return page.locator(".vv-words").evaluate(
        """box => {
            const w = box.querySelector(".vv-now");
            const t = box.getRootNode().querySelector(".vv-video").currentTime;
            return w ? [w.textContent, +w.dataset.start, +w.dataset.end, t] : ["", 0, 0, t];
        }"""
    )


def test_the_spoken_word_is_highlighted_as_the_video_plays(desktop) -> None:
    require_model(DEFAULT_MODEL)
    desktop.locator(".vv-word").first.wait_for(timeout=120_000)  # after the transcription
    desktop.locator(".vv-video").evaluate("v => { v.currentTime = 1.0; }")
    wait_for_video(desktop, "v.currentTime === 1.0")
    word, start, end, t = highlighted(desktop)
    assert word.strip().lower() in {"the", "birch", "canoe", "slid"} and start <= t < end
    desktop.locator(".vv-play").click()
    seen = set()
    for after in (3.5, 5.0, 6.5):  # the highlight moves on with the sound
        wait_for_video(desktop, f"v.currentTime > {after}")
        word, start, end, t = highlighted(desktop)
        if word:  # between two words nothing is highlighted
            assert start <= t + 0.05 and t < end + 0.05, (word, start, end, t)
            seen.add(word.strip().lower())
    desktop.locator(".vv-play").click()
    assert len(seen) >= 2, seen
    screenshot(desktop, "video_word_highlighted")
    depth = desktop.locator(".vv-word", has_text="depth")
    depth_s = float(depth.get_attribute("data-start"))
    depth.click()  # a click plays from that word
    wait_for_video(desktop, f"v.currentTime > {depth_s + 0.3}")
    desktop.locator(".vv-play").click()
    assert depth_s < current_time(desktop) < depth_s + 1.5


def test_the_player_fits_a_phone(browser, harness_url, harvard_video) -> None:
    page = open_player(browser, harness_url, harvard_video, 390, 844)
    try:
        video, lanes = page.locator(".vv-video").bounding_box(), page.locator(".vv-lanes")
        assert video["width"] <= 390 and lanes.bounding_box()["width"] <= 390
        screenshot(page, "video_phone")
    finally:
        page.context.close()


def test_the_players_helpers_agree_with_the_analysis(desktop) -> None:
    """view.js's own maths: the arrow is the direction analysis.video.regions counts "in",
    the word at a time, fresh names."""
    desktop.evaluate(
        """async (source) => {
            const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
            window.view = await import(url);
        }""",
        VIEW_JS.read_text(encoding="utf-8"),
    )
    for ends in [(0, 50, 100, 50), (160, 24, 160, 216), (10, 10, 30, 90)]:
        line = Line(*ends)
        arrow = desktop.evaluate(
            "([x1, y1, x2, y2]) => view.inNormal({x1, y1, x2, y2})", list(ends)
        )
        assert arrow == pytest.approx(line.in_direction())
    words = [{"start": 0.5, "end": 0.9}, {"start": 1.0, "end": 1.4}, {"start": 2.0, "end": 2.2}]
    found = desktop.evaluate(
        "words => [0.2, 0.5, 0.95, 1.3, 1.4, 2.1, 3].map(t => view.itemAt(words, t))", words
    )
    assert found == [-1, 0, -1, 1, -1, 2, -1]
    names = desktop.evaluate("() => view.freshName('Line', ['Line 1', 'Line 3', 'Zone 2'])")
    assert names == "Line 2"
    assert desktop.evaluate("() => [view.clock(0), view.clock(79.46)]") == ["0:00.0", "1:19.5"]
