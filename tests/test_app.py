"""The app's frame: navigation, the home page, and each page running on its own."""

import pytest
from streamlit.testing.v1 import AppTest


def test_home_page_describes_and_links_both_pages():
    at = AppTest.from_file("../pages/home.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "spectrogram" in text and "confidence slider" in text
    assert "(/audio)" in text and "(/vision)" in text


def test_app_entry_point_runs_the_home_page():
    at = AppTest.from_file("../app.py").run()
    assert not at.exception
    assert at.title[0].value == "Percept"


@pytest.mark.parametrize("name", ["home", "audio", "vision"])
def test_every_page_runs_on_its_own(name):
    at = AppTest.from_file(f"../pages/{name}.py").run(timeout=60)
    assert not at.exception


@pytest.mark.browser
def test_sidebar_shows_human_titles_and_url_paths(page, app_url):
    page.goto(app_url)
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for()
    assert nav.get_by_text("Audio", exact=True).is_visible()
    assert nav.get_by_text("Vision", exact=True).is_visible()
    hrefs = [link.get_attribute("href") for link in nav.locator("a").all()]
    assert any(h.endswith("/audio") for h in hrefs), hrefs
    assert any(h.endswith("/vision") for h in hrefs), hrefs
    page.goto(f"{app_url}/vision")
    page.get_by_role("heading", name="Vision").wait_for()
