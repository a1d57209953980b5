"""The app's frame: navigation, the home page, and each page running on its own."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from tests.conftest import drop_file, screenshot
from tests.support.corpus import wav
from tests.support.live_app import running_app
from tests.support.webrtc_apptest import webrtc_without_server


def test_home_page_describes_and_links_every_page():
    at = AppTest.from_file("../../app_pages/home.py").run(timeout=120)  # it makes its pictures
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "spectrogram" in text and "confidence slider" in text
    for url_path in ("audio", "vision", "video", "live", "batch"):
        assert f"(/{url_path})" in text


def test_app_entry_point_runs_the_home_page():
    at = AppTest.from_file("../../app.py").run(timeout=120)
    assert not at.exception
    assert at.title[0].value == "Percept"


@pytest.mark.parametrize("name", ["home", "audio", "vision", "video", "live", "batch"])
def test_every_page_runs_on_its_own(name, monkeypatch):
    if name == "live":
        webrtc_without_server(monkeypatch)
    at = AppTest.from_file(f"../../app_pages/{name}.py").run(timeout=60)
    assert not at.exception


@pytest.mark.browser
def test_fresh_server_opened_on_a_page_url_shows_the_app_navigation(browser, tmp_path):
    # A fresh server's first visitor arriving by deep link must get app.py's navigation,
    # not Streamlit's legacy pages/ listing of file names.
    with running_app(tmp_path / "server.log") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/vision")
        page.get_by_role("heading", name="Vision").first.wait_for(timeout=60_000)
        nav = page.get_by_test_id("stSidebarNav")
        # Material icons render as ligature text ("home"), so compare each link's last word.
        expect(nav.locator("a")).to_have_count(6, timeout=30_000)
        assert [link.inner_text().split()[-1] for link in nav.locator("a").all()] == [
            "Home",
            "Audio",
            "Vision",
            "Video",
            "Live",
            "Batch",
        ]
        hrefs = [link.get_attribute("href") for link in nav.locator("a").all()]
        assert [h.rsplit("/", 1)[-1] for h in hrefs] == [
            "",
            "audio",
            "vision",
            "video",
            "live",
            "batch",
        ], hrefs
        assert urlsplit(page.url).path.endswith("/vision")  # ?w= follows: the link to the work
        # Streamlit's "Page not found" dialog appears when it takes a pages/ folder beside
        # app.py for its legacy multipage layout and runs that instead of app.py.
        expect(page.get_by_text("Page not found")).to_have_count(0)
        context.close()


@pytest.mark.browser
def test_a_file_over_the_upload_limit_gets_a_clear_message(browser, tmp_path):
    # The same check Streamlit makes at .streamlit/config.toml's limit, at 1 MB to stay quick.
    big = tmp_path / "long.wav"
    big.write_bytes(wav(seconds=40, rate=16_000))  # 1.3 MB
    with running_app(tmp_path / "server.log", "--server.maxUploadSize", "1") as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(f"{url}/audio")
        drop_file(page, big, "audio/wav")
        # Streamlit marks the file as refused, with the reason; the page is not disturbed.
        expect(page.get_by_text("File must be 1.0MB or smaller")).to_be_attached(timeout=30_000)
        expect(page.get_by_text("Drop a file above, record one")).to_be_visible()
        screenshot(page, "upload-over-limit")
        assert not page.get_by_test_id("stException").count()
        context.close()
