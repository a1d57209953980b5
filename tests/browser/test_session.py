"""A visitor's whole session in Chromium: files and results survive moving between pages, and
nothing the app does reaches any host but its own."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import skimage.data
from PIL import Image

from analysis.vision.detectors import is_available
from models.catalog import CATALOG
from tests.conftest import drop_file, screenshot

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
# A page busy with tags and speech on a loaded 2-core machine takes more than expect's 5 s.
WAIT_MS = 30_000

SPECTROGRAM = ".sv-picture"  # the interactive spectrogram's picture
WAVEFORM = '[data-testid="stImage"] img'


def go_to(page, title: str) -> None:
    """Click the sidebar link to a page (no reload: the session and its state live on)."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).wait_for()


def visible_images_loaded(page) -> None:
    page.wait_for_function(
        "() => { const shown = [...document.querySelectorAll('[data-testid=\"stImage\"] img')]"
        ".filter(img => img.offsetParent !== null);"
        " return shown.length > 0 && shown.every(img => img.complete && img.naturalWidth > 0); }"
    )


def test_both_pages_keep_their_file_and_result_across_navigation(page, app_url, speech_wav):
    photo = speech_wav.parent / "cat on the sofa.png"
    Image.fromarray(skimage.data.chelsea()).save(photo)
    main = page.get_by_test_id("stMain")
    page.goto(app_url)

    go_to(page, "Audio")
    drop_file(page, speech_wav, "audio/wav")
    page.locator(SPECTROGRAM).wait_for()
    page.locator(WAVEFORM).first.wait_for()
    scale = page.get_by_role("radiogroup", name=re.compile("Frequency scale"))
    scale.get_by_text("Mel", exact=True).click()
    expect(main).to_contain_text("× 128 rows", timeout=WAIT_MS)  # 128 mel bands

    go_to(page, "Vision")
    drop_file(page, photo, "image/png")
    expect(main).to_contain_text("cat on the sofa.png", timeout=WAIT_MS)
    visible_images_loaded(page)

    go_to(page, "Audio")
    expect(main).to_contain_text("HELLO.WAV", timeout=WAIT_MS)
    expect(main).to_contain_text("22,050 Hz", timeout=WAIT_MS)
    page.locator(SPECTROGRAM).wait_for()
    page.locator(WAVEFORM).first.wait_for()
    visible_images_loaded(page)
    expect(scale.get_by_role("radio", name="Mel")).to_be_checked(timeout=WAIT_MS)
    screenshot(page, "session-audio-after-vision")

    go_to(page, "Vision")
    expect(main).to_contain_text("cat on the sofa.png", timeout=WAIT_MS)
    visible_images_loaded(page)
    screenshot(page, "session-vision-after-audio")
    assert not page.get_by_test_id("stException").count()


def test_using_the_app_sends_no_request_to_any_other_host(browser, app_url, speech_wav):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    hosts: list[str] = []
    context.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url)
    page.get_by_role("heading", name="Percept").wait_for()
    go_to(page, "Audio")
    drop_file(page, speech_wav, "audio/wav")
    page.locator(SPECTROGRAM).wait_for()
    page.locator(WAVEFORM).first.wait_for()
    page.get_by_text("Advanced").click()  # expanders, icons and fonts load on demand
    go_to(page, "Vision")
    visible_images_loaded(page)
    page.wait_for_load_state("networkidle")
    context.close()
    own = urlsplit(app_url).netloc
    assert hosts and own in hosts
    assert sorted({host for host in hosts if host and host != own}) == []


def test_a_reload_and_the_link_in_another_browser_show_the_same_work(
    browser, page, app_url, speech_wav
):
    main = page.get_by_test_id("stMain")
    page.goto(app_url)
    go_to(page, "Audio")
    drop_file(page, speech_wav, "audio/wav")
    page.locator(SPECTROGRAM).wait_for()
    scale = page.get_by_role("radiogroup", name=re.compile("Frequency scale"))
    scale.get_by_text("Mel", exact=True).click()
    expect(main).to_contain_text("× 128 rows", timeout=WAIT_MS)
    whisper = is_available(CATALOG["whisper-base"])
    if whisper:  # a short clip is transcribed at once
        expect(main).to_contain_text("to the demonstration", timeout=120_000)
    box = page.locator(SPECTROGRAM).bounding_box()  # a zoom: a box over time and band
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=5)
    page.mouse.up()
    zoomed = main.get_by_text(re.compile(r"over \d+\.\d+ s, showing "))
    expect(zoomed).to_be_visible(timeout=WAIT_MS)
    view = zoomed.inner_text()
    page.wait_for_url(re.compile(r"/audio\?w=[A-Za-z0-9_-]{22}$"))
    link = page.url

    def same_view(tab) -> None:
        tab_main = tab.get_by_test_id("stMain")
        expect(tab_main).to_contain_text("HELLO.WAV", timeout=WAIT_MS)
        expect(tab_main).to_contain_text("× 128 rows", timeout=WAIT_MS)
        tab_scale = tab.get_by_role("radiogroup", name=re.compile("Frequency scale"))
        expect(tab_scale.get_by_role("radio", name="Mel")).to_be_checked(timeout=WAIT_MS)
        tab.locator(SPECTROGRAM).wait_for()
        expect(tab_main.get_by_text(view, exact=True)).to_be_visible(timeout=WAIT_MS)
        if whisper:  # the server still holds the transcript: no new run
            expect(tab_main).to_contain_text("to the demonstration", timeout=WAIT_MS)
        assert not tab.get_by_test_id("stException").count()

    page.reload()
    same_view(page)
    assert page.url == link
    screenshot(page, "session-after-reload")

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = other.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(link)
        same_view(tab)
        screenshot(tab, "session-link-in-another-browser")
        tab.goto(f"{app_url}/audio?w=AAAAAAAAAAAAAAAAAAAAAA")  # unknown: one sentence
        expect(tab.get_by_test_id("stMain")).to_contain_text(
            "This link's work is no longer kept", timeout=WAIT_MS
        )
        assert "HELLO.WAV" not in tab.get_by_test_id("stMain").inner_text()
    finally:
        other.close()
