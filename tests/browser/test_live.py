"""The Live page in real Chromium, its camera a real video (OpenCV's pedestrians) looped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import expect

from models import MissingModelError, get_spec, resolve_files
from tests.conftest import require_model, screenshot
from tests.support.live_app import CHROMIUM, CHROMIUM_ARGS
from tests.support.live_camera import (
    CAPTURE_PCS_JS,
    PLAYING_JS,
    fake_media_args,
    make_y4m,
    read_stats,
    start_camera,
    wait_for_frames,
    webrtc_frame,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Streams start in seconds, more on a busy machine: wait up to 30 s, not 5."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def resolve_or_none(model: str) -> dict[str, Path] | None:
    try:
        return resolve_files(get_spec(model))
    except MissingModelError:
        return None


@pytest.fixture(scope="module")
def camera_y4m(opencv_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OpenCV's pedestrians (vtest.avi), 640×480 at 30 fps, for Chromium's fake camera."""
    return make_y4m(opencv_data / "vtest.avi", tmp_path_factory.mktemp("camera") / "vtest.y4m")


@pytest.fixture(scope="module")
def microphone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds of a 440 Hz tone swelling and fading twice, 48 kHz mono."""
    rate = 48_000
    t = np.arange(5 * rate) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.4 * t))
    path = tmp_path_factory.mktemp("microphone") / "tone.wav"
    sf.write(path, tone.astype(np.float32), rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def camera_browser(playwright, camera_y4m: Path, microphone_wav: Path) -> Iterator[object]:
    """Chromium whose camera plays ``camera_y4m``, whose microphone plays ``microphone_wav``,
    and which grants access to them without asking."""
    args = fake_media_args(camera_y4m, microphone_wav)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield browser
    browser.close()


@pytest.fixture
def camera_page(camera_browser, app_url: str):
    context = camera_browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def test_the_camera_streams_annotated_while_the_confidence_slider_moves(camera_page, app_url):
    require_model("yolox-nano")  # the default model; the clip's people are what it finds
    page = camera_page
    page.add_init_script(CAPTURE_PCS_JS)
    frame = start_camera(page, app_url)
    # No STUN or TURN server by default: nothing waits on a public server.
    assert frame.evaluate("window.__pcs.at(-1).getConfiguration().iceServers") == []
    expect(page.get_by_text(re.compile(r"In view: .*person: \d+"))).to_be_visible()
    before = read_stats(page)
    assert before.frames > 0 and before.frame_ms > 0

    slider = page.get_by_role("slider").first  # the confidence threshold comes first
    slider.focus()
    for _ in range(8):  # 0.50 → 0.90: fewer people are sure enough
        page.keyboard.press("ArrowRight")
    expect(page.get_by_text("0.90").first).to_be_visible()

    # The stream goes on through the reruns: the same video keeps playing, more frames come.
    playing_at = frame.evaluate("document.querySelector('video').currentTime")
    frame.wait_for_function(PLAYING_JS, arg=playing_at + 2)
    wait_for_frames(page, before.frames + 20)
    screenshot(page, "live-camera")

    frame.get_by_role("button", name="Stop").click()
    stopped = page.get_by_text("Press Start to stream from the camera.")
    expect(stopped).to_be_visible()
    expect(frame.get_by_role("button", name="Start")).to_be_visible()


def test_a_kept_frame_and_a_recording_of_the_stream_come_with_downloads(camera_page, app_url):
    page = camera_page
    frame = start_camera(page, app_url)
    page.get_by_role("button", name="Keep this frame").click()
    expect(page.get_by_role("heading", name="Kept frame")).to_be_visible()
    expect(page.get_by_role("button", name="Download detections (JSON)")).to_be_visible()

    record = page.get_by_role("switch", name="Record the annotated stream")
    record.click(force=True)
    expect(record).to_be_checked()
    # The count shown may be two seconds old: wait for a fresh one, then for 15 more frames.
    wait_for_frames(page, read_stats(page).frames)
    wait_for_frames(page, read_stats(page).frames + 15)
    record.click(force=True)
    expect(page.get_by_role("heading", name="Recording")).to_be_visible()
    expect(page.get_by_role("button", name="Download recording (MP4)")).to_be_visible()
    # The browser can play it: its video element learns a duration.
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-testid=stVideo]');"
        " return v && v.duration > 0.3; }"
    )
    screenshot(page, "live-kept-and-recorded")
    frame.get_by_role("button", name="Stop").click()


def test_two_sessions_streaming_at_once_keep_their_own_thresholds(camera_browser, app_url):
    require_model("yolox-nano")
    contexts = [camera_browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in "ab"]
    strict, loose = pages = [context.new_page() for context in contexts]
    for page in pages:
        page.set_default_timeout(60_000)
    strict.goto(f"{app_url}/live")
    strict.get_by_role("slider").first.focus()
    for _ in range(9):  # 0.50 → 0.95: nobody in the clip scores that high
        strict.keyboard.press("ArrowRight")
    expect(strict.get_by_text("0.95").first).to_be_visible()
    for page in pages:
        start_camera(page, app_url, reload=False)
    for page in pages:  # a few polls' worth of frames each
        wait_for_frames(page, read_stats(page).frames + 10)
    expect(strict.get_by_text("In view: nothing above the threshold")).to_be_visible()
    expect(loose.get_by_text(re.compile(r"In view: .*person: \d+"))).to_be_visible()
    for context in contexts:
        context.close()


def test_the_microphone_shows_a_level_a_spectrogram_and_tags_then_a_recording(camera_page, app_url):
    page = camera_page
    page.goto(f"{app_url}/live")
    page.get_by_text("Microphone", exact=True).click()
    expect(page.get_by_text("Confidence threshold")).to_have_count(0)  # the camera is gone
    frame = webrtc_frame(page)
    frame.get_by_role("button", name="Start").click()
    level = page.get_by_text(re.compile(r"^Level -\d+ dB RMS"))
    expect(level).to_be_visible(timeout=60_000)
    spectrogram = page.get_by_test_id("stImage").locator("img")
    expect(spectrogram).to_be_visible()
    first = spectrogram.get_attribute("src")
    # It scrolls: a new picture comes about every second.
    expect(spectrogram).not_to_have_attribute("src", first)
    if resolve_or_none("yamnet"):
        expect(page.get_by_text(re.compile(r"^Hearing: \w"))).to_be_visible()
    screenshot(page, "live-microphone")

    frame.get_by_role("button", name="Stop").click()
    download = page.get_by_role("button", name="Download what was heard (WAV)")
    expect(download).to_be_visible()
    page.get_by_role("button", name="Analyse it on the Audio page").click()
    page.get_by_role("heading", name="Audio").first.wait_for()
    expect(page.get_by_text("Still loaded: live_recording.wav")).to_be_visible()


def test_without_a_camera_the_page_says_so_in_one_sentence(playwright, app_url):
    # No fake device: headless Chromium on a machine without a camera finds none. The
    # component's player says so itself ("NotFoundError: Requested device not found"): the
    # page cannot tell, the browser keeps it to itself.
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{app_url}/live")
    page.get_by_role("heading", name="Live").first.wait_for()
    frame = page.frame_locator('iframe[title="streamlit_webrtc.component.webrtc_streamer"]')
    frame.get_by_role("button", name="Start").click()
    expect(frame.get_by_text("Requested device not found")).to_be_visible()
    screenshot(page, "live-no-camera")
    # The rest of the app still works.
    page.get_by_role("link", name=re.compile("Vision")).click()
    page.get_by_role("heading", name="Vision").first.wait_for()
    browser.close()
