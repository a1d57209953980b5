"""The Audio page on a phone (390 × 844, touch, a mobile User-Agent) in a real browser:
the pictures' text must stay readable at the phone's width."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from analysis.figures import PHONE_SPECTROGRAM_LAYOUT, SPECTROGRAM_LAYOUT
from tests.conftest import IPHONE, drop_file, require_model, screenshot

MIN_TEXT_CSS_PX = 10


@pytest.fixture
def phone(browser, app_url: str):
    """A fresh tab in a phone-sized, touch, mobile context (its own Streamlit session)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=IPHONE,
    )
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


# Pictures in the page and in components' shadow roots (the interactive spectrogram's).
PICTURES_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
    .flatMap(e => e.tagName === "IMG" ? [e] : [...(e.shadowRoot?.querySelectorAll("img") ?? [])])
    .filter(img => img.complete && img.naturalWidth > 0)
    .map(img => { const box = img.getBoundingClientRect();
                  return [box.width, img.naturalWidth, img.naturalHeight]; })"""


def shown_width(page, natural_size: tuple[int, int]) -> float:
    """Width in CSS px of the picture whose own size is ``natural_size`` (waits for it)."""
    width, height = natural_size
    page.wait_for_function(
        f"() => ({PICTURES_JS})().some(([_, w, h]) => w === {width} && h === {height})"
    )
    shown = [w for w, nw, nh in page.evaluate(PICTURES_JS) if (nw, nh) == natural_size]
    return shown[0]


def smallest_text_css_px(layout, shown_width: float) -> float:
    """The picture's smallest font (points at 100 dpi) in CSS px when shown that wide."""
    smallest_pt = min(layout.tick_pt, layout.label_pt, layout.name_pt)
    return smallest_pt * 100 / 72 * shown_width / layout.width


def open_speech(page, app_url: str, speech_wav) -> None:
    page.goto(f"{app_url}/audio")
    page.get_by_role("heading", name="Audio").wait_for()
    drop_file(page, speech_wav, "audio/wav")
    page.get_by_text("22,050 Hz").wait_for()  # decoded; the pictures follow


@pytest.mark.browser
def test_on_a_phone_the_spectrogram_and_its_lanes_text_is_readable(phone, app_url, speech_wav):
    open_speech(phone, app_url, speech_wav)
    assert not phone.get_by_test_id("stException").count()
    layout = PHONE_SPECTROGRAM_LAYOUT
    shown = shown_width(phone, (layout.width, layout.height))  # the phone layout was served
    assert 300 < shown <= 390  # the whole width of the phone's column
    assert smallest_text_css_px(layout, shown) >= MIN_TEXT_CSS_PX
    # The desktop picture at this width had text half that size (the issue: ~5 px).
    assert smallest_text_css_px(SPECTROGRAM_LAYOUT, shown) < 6
    assert not phone.get_by_test_id("stMetric").count()  # the facts are one line, no tiles
    screenshot(phone, "audio-phone-first-screen")
    # The lanes (the waveform's, at least) keep text of a readable size, inside the screen.
    phone.locator(".sv-lane").first.wait_for()
    sizes = phone.locator(".sv").evaluate(
        """root => [...root.querySelectorAll('.sv-lane-name, .sv-span, .sv-bar button')]
            .map(e => [parseFloat(getComputedStyle(e).fontSize),
                       e.getBoundingClientRect().right])"""
    )
    assert sizes and all(size >= MIN_TEXT_CSS_PX and right <= 390 for size, right in sizes)
    phone.locator(".sv-picture").scroll_into_view_if_needed()  # the interactive spectrogram
    screenshot(phone, "audio-phone-spectrogram")


@pytest.mark.browser
def test_on_a_phone_the_tag_timeline_text_is_readable(phone, app_url, speech_wav):
    require_model("yamnet")
    open_speech(phone, app_url, speech_wav)
    phone.get_by_text("YAMNet hears mostly").wait_for()
    phone.get_by_role("heading", name="What's in this sound").scroll_into_view_if_needed()
    phone.wait_for_function(
        f"() => ({PICTURES_JS})().filter(([_, w]) => w === {PHONE_SPECTROGRAM_LAYOUT.width})"
        ".length >= 2"
    )
    timelines = [
        w
        for w, nw, nh in phone.evaluate(PICTURES_JS)
        if nw == PHONE_SPECTROGRAM_LAYOUT.width and nh != PHONE_SPECTROGRAM_LAYOUT.height
    ]
    assert timelines
    assert smallest_text_css_px(PHONE_SPECTROGRAM_LAYOUT, timelines[0]) >= MIN_TEXT_CSS_PX
    assert not phone.get_by_test_id("stException").count()
    phone.evaluate(
        """([w, h]) => Array.from(document.querySelectorAll('[data-testid="stMain"] img'))
            .find(img => img.naturalWidth === w && img.naturalHeight !== h)
            .scrollIntoView({block: "center"})""",
        [PHONE_SPECTROGRAM_LAYOUT.width, PHONE_SPECTROGRAM_LAYOUT.height],
    )
    screenshot(phone, "audio-phone-tags")


@pytest.mark.browser
def test_a_desktop_browser_still_gets_the_wide_pictures(page, app_url, speech_wav):
    open_speech(page, app_url, speech_wav)
    layout = SPECTROGRAM_LAYOUT
    assert shown_width(page, (layout.width, layout.height)) > 900

    # The PNG download carries a title line above the same picture; the screen has none.
    with page.expect_download() as download:
        page.get_by_role("button", name="Spectrogram (PNG)").click()
    with Image.open(download.value.path()) as png:
        title_strip = np.asarray(png.convert("L"))[: png.height - layout.height]
        assert png.width == layout.width and png.height > layout.height + 20
    assert (title_strip < 100).sum() > 200  # dark text: "HELLO.WAV — FFT 2048, …"
