"""Shared fixtures: model files found like the app finds them, and a live app in Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import MissingModelError, get_spec, resolve_files
from tests.support.live_app import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DROP_FILE_JS,
    PROJECT_ROOT,
    ServerError,
    drop_file_arg,
    running_app,
)

ARTIFACTS_DIR = PROJECT_ROOT / "test-artifacts"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# A phone's User-Agent: the pages choose their phone layout from it ("Mobi").
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def skip_or_fail(reason: str, required_by: str) -> None:
    """Skip with ``reason``, or fail when the environment variable ``required_by`` is "1" (CI)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)")
    pytest.skip(reason)


def require_model(name: str) -> dict[str, Path]:
    """Paths of catalog model ``name``'s files; skips (or fails under PERCEPT_REQUIRE_MODELS=1)."""
    try:
        return resolve_files(get_spec(name))
    except MissingModelError as error:
        skip_or_fail(str(error), "PERCEPT_REQUIRE_MODELS")
        raise  # unreachable: skip_or_fail raises


def require_tool(name: str) -> str:
    """Path of command-line tool ``name`` (espeak-ng, sox); skips (fails in CI) when absent."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (apt-get install {name})", "PERCEPT_REQUIRE_TOOLS")
    return path


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Streamlit's caches and the decoded files' (:mod:`ui.memory`) empty before a page test
    and after it (clearing cache_resource also shuts the job board down, so its threads end
    with the test)."""
    import streamlit as st

    from ui.memory import drop_per_file_caches

    st.cache_data.clear()
    st.cache_resource.clear()
    drop_per_file_caches()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    drop_per_file_caches()


@pytest.fixture(scope="session")
def opencv_data() -> Path:
    """Debian opencv-doc's sample photos and videos (scripts/install-test-tools.sh installs it)."""
    if not OPENCV_DATA.is_dir():
        skip_or_fail(
            "OpenCV's samples need Debian's opencv-doc (apt-get install opencv-doc)",
            "PERCEPT_REQUIRE_TOOLS",
        )
    return OPENCV_DATA


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few seconds of English speech from espeak-ng (22.05 kHz mono), upper-case extension."""
    espeak = require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("speech") / "HELLO.WAV"
    text = (
        "Hello, and welcome to the demonstration. "
        "The quick brown fox jumps over the lazy dog, and then it runs away."
    )
    subprocess.run([espeak, "-w", str(path), text], check=True, capture_output=True)
    return path


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live ``streamlit run app.py`` on a free loopback port; yields its base URL."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        with running_app(log_path) as url:
            yield url
    except ServerError as error:
        pytest.fail(str(error))


def require_browser() -> None:
    """Skip (fail in CI) unless Debian's Chromium and Playwright are installed."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("Chromium is missing (apt-get install chromium)", "PERCEPT_REQUIRE_BROWSER")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("Playwright is missing (pip install playwright)", "PERCEPT_REQUIRE_BROWSER")


@pytest.fixture(scope="session")
def playwright() -> Iterator[object]:
    """Playwright's sync API, once per test run: a second one inside it is refused."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright) -> Iterator[object]:
    """Debian's Chromium driven by Playwright's sync API."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser, app_url: str):
    """A fresh browser tab (its own Streamlit session) at a desktop size."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def drop_file(page, path: Path, mime: str) -> None:
    """Drop ``path`` onto the first file uploader's drop zone, as a person dragging a file does."""
    page.wait_for_selector('[data-testid="stFileUploaderDropzone"]')
    page.evaluate(DROP_FILE_JS, drop_file_arg(path, mime))


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (git-ignored) and return its path."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True, scope="session")
def links_in_a_temporary_folder(tmp_path_factory) -> None:
    """Links' work (ui.store) goes to a folder of this test run, never the user's cache."""
    os.environ.setdefault("PERCEPT_LINKS_DIR", str(tmp_path_factory.mktemp("links")))
